using System.Globalization;
using System.Text.Json;

namespace OpenSpe.Compliance;

/// <summary>
/// "GET this API path as the signed-in person": how the evidence is read, by the CLI through its API client and by the portal
/// through its backchannel, each with the person's own token, so the report holds exactly what the API gives that person.
/// </summary>
public interface IEvidenceSource
{
    /// <summary>GETs <paramref name="path"/> (relative to the API's root, without a leading slash) and returns the answer.</summary>
    /// <param name="path">The API path, e.g. <c>api/v1/audit/verify</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    Task<EvidenceAnswer> GetAsync(string path, CancellationToken cancellationToken);
}

/// <summary>What the API answered to one evidence request.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The body of a success (JSON); empty for a refusal.</param>
/// <param name="Refusal">The refusal as one line (the problem's detail), or null for a success.</param>
public sealed record EvidenceAnswer(int Status, string Body, string? Refusal)
{
    /// <summary>True for a 2xx answer.</summary>
    public bool Succeeded => Status is >= 200 and < 300;
}

/// <summary>
/// Reads the live evidence from a running SPE through its API, as the signed-in person (an auditor sees all of it). Each item
/// that the API does not have, or refuses to this person, says so and why; nothing is guessed.
/// </summary>
public static class EvidenceCollector
{
    /// <summary>Collects every evidence item, in a fixed order, verifying the whole audit chain now.</summary>
    /// <param name="api">Reads the API as the signed-in person.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public static Task<IReadOnlyList<EvidenceItem>> CollectAsync(IEvidenceSource api, CancellationToken cancellationToken) =>
        CollectAsync(api, verifyAuditNow: true, cancellationToken);

    /// <summary>Collects every evidence item, in a fixed order.</summary>
    /// <param name="api">Reads the API as the signed-in person.</param>
    /// <param name="verifyAuditNow">
    /// True to verify the whole audit chain now (the CLI's report, made on request); false to show the last verification the
    /// log records and when it ran (a page viewed often, where verifying a large log on every view would be slow).
    /// </param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public static async Task<IReadOnlyList<EvidenceItem>> CollectAsync(IEvidenceSource api, bool verifyAuditNow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        return
        [
            verifyAuditNow
                ? await ItemAsync(api, "audit-verification", "api/v1/audit/verify", d =>
                    d.GetProperty("valid").GetBoolean()
                        ? $"The audit chain verified now: {d.GetProperty("recordsChecked").GetInt64()} records and {d.GetProperty("checkpointsChecked").GetInt64()} checkpoints."
                        : "The audit chain did NOT verify now; see the details.", cancellationToken)
                : await ItemAsync(api, "audit-verification", "api/v1/audit/verifications/latest", LastVerification, cancellationToken),
            await ItemAsync(api, "audit-checkpoint", "api/v1/audit/checkpoints/latest", d =>
                $"Latest signed checkpoint: sequence {d.GetProperty("sequence").GetInt64()} at {d.GetProperty("timestamp").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)} ({d.GetProperty("kind").GetString()}). Whether an external witness holds it is checked offline with 'spe audit verify --witness'.",
                cancellationToken),
            await ItemAsync(api, "backup-and-restore-drill", "api/v1/operations/backups", d =>
            {
                // Note: the server leaves out null members, so each may be absent.
                var schedule = d.TryGetProperty("schedule", out var every) && every.ValueKind == JsonValueKind.String ? $"every {every.GetString()}" : "none on the server";
                return $"Scheduled backups: {schedule}. Last backup: {Event(d, "lastBackup")}. Last restore drill: {Event(d, "lastDrill")}.";
            }, cancellationToken),
            await ItemAsync(api, "open-incidents", "api/v1/incidents", d =>
            {
                var open = d.EnumerateArray().Where(i => i.GetProperty("state").GetString() != "closed").ToList();
                var overdue = open.Count(i => i.GetProperty("overdue").GetBoolean());
                return $"{open.Count} incident(s) not closed, {overdue} with an overdue HDAB deadline.";
            }, cancellationToken),
            await ItemAsync(api, "open-alerts", "api/v1/alerts?state=open&limit=500", d =>
            {
                // Note: one page of the largest size; past it the report says "at least", because it does not walk every page.
                var count = d.GetProperty("items").GetArrayLength();
                var more = d.TryGetProperty("nextBefore", out var next) && next.ValueKind == JsonValueKind.String;
                return $"{(more ? "At least " : "")}{count} alert(s) fired and not yet acknowledged (the rules in force are the next item).";
            }, cancellationToken),
            await ItemAsync(api, "alert-rules", "api/v1/alerts/rules", d =>
            {
                var rules = d.EnumerateArray().Select(r =>
                    $"{r.GetProperty("name").GetString()} ({(r.TryGetProperty("check", out var check) && check.ValueKind == JsonValueKind.String ? "check " + check.GetString() : "counts " + r.GetProperty("action").GetString())}, "
                    + $"threshold {r.GetProperty("threshold").GetInt64()} per {r.GetProperty("groupBy").GetString()} in {r.GetProperty("window").GetString()})").ToList();
                return $"{rules.Count} alert rule(s) in force: {string.Join("; ", rules)}.";
            }, cancellationToken),
            await ItemAsync(api, "certificates", "api/v1/operations/certificates", d =>
            {
                var warn = d.GetProperty("warnDays").GetInt32();
                var parts = d.GetProperty("certificates").EnumerateArray().Select(c =>
                    $"{c.GetProperty("name").GetString()} certificate {c.GetProperty("subject").GetString()}, not after "
                    + $"{c.GetProperty("notAfter").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)}, {c.GetProperty("daysLeft").GetInt64()} day(s) left"
                    + (c.GetProperty("expiringSoon").GetBoolean() ? $" (EXPIRES WITHIN {warn} DAYS: renew it)" : ""));
                return string.Join("; ", parts) + ".";
            }, cancellationToken),
            await ItemAsync(api, "components", "api/v1/operations/components", d =>
            {
                var audit = d.GetProperty("audit");
                var vulnerable = d.GetProperty("packages").EnumerateArray().Count(p => p.GetProperty("knownVulnerable").GetBoolean());
                return $"{d.GetProperty("packages").GetArrayLength()} NuGet packages (CycloneDX SBOM made at build), {vulnerable} flagged with a known vulnerability; NuGet audit at build: "
                    + (audit.GetProperty("enabled").GetBoolean() ? audit.GetProperty("mode").GetString() : "off") + ".";
            }, cancellationToken),
        ];
    }

    /// <summary>The last recorded verification in words: when it ran, who ran it, what it covered, and that it is not re-run here.</summary>
    private static string LastVerification(JsonElement d)
    {
        var at = d.GetProperty("verifiedAt").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture);
        var by = d.TryGetProperty("verifiedBy", out var who) && who.ValueKind == JsonValueKind.String ? who.GetString() : "unknown";
        var through = d.TryGetProperty("lastSequence", out var last) && last.ValueKind == JsonValueKind.Number ? $" through sequence {last.GetInt64()}" : "";
        return d.GetProperty("valid").GetBoolean()
            ? $"The audit chain verified at {at} (run by {by}): {d.GetProperty("recordsChecked").GetInt64()} records{through} and {d.GetProperty("checkpointsChecked").GetInt64()} checkpoints. Records written since are not covered until the next verification."
            : $"The audit chain did NOT verify at {at} (run by {by}): first bad sequence {(d.TryGetProperty("firstBadSequence", out var bad) && bad.ValueKind == JsonValueKind.Number ? bad.GetInt64().ToString(CultureInfo.InvariantCulture) : "unknown")}"
                + $" ({(d.TryGetProperty("problem", out var problem) && problem.ValueKind == JsonValueKind.String ? problem.GetString() : "unknown")}); see the details.";
    }

    /// <summary>A backup or drill from the evidence endpoint, in words: its name, time and outcome, or "none recorded".</summary>
    private static string Event(JsonElement evidence, string name) => !evidence.TryGetProperty(name, out var e) || e.ValueKind != JsonValueKind.Object
        ? "none recorded"
        : $"{e.GetProperty("backup").GetString()} at {e.GetProperty("at").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)}, {e.GetProperty("outcome").GetString()}"
            + (e.GetProperty("kind").GetString() == "drill" ? DrillSource(e) : "");

    /// <summary>
    /// Whose word a drill's outcome is. Note: the server cannot run a drill (the backup key is offline), so the report says who
    /// recorded it and, when the server has no record of making the backup drilled, says that too, because otherwise a drill of
    /// a made-up backup would read as evidence.
    /// </summary>
    private static string DrillSource(JsonElement drill)
    {
        var by = drill.TryGetProperty("recordedBy", out var who) && who.ValueKind == JsonValueKind.String ? who.GetString() : "unknown";
        var madeHere = drill.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Object
            && details.TryGetProperty("madeHere", out var made) && made.ValueKind == JsonValueKind.String ? made.GetString() : null;
        return madeHere == "false"
            ? $" as recorded by {by}; this server has NO record of making that backup, so the drill is not evidence of its own backups"
            : $" as recorded by {by}";
    }

    private static async Task<EvidenceItem> ItemAsync(IEvidenceSource api, string name, string path, Func<JsonElement, string> summarize, CancellationToken cancellationToken)
    {
        var answer = await api.GetAsync(path, cancellationToken);
        if (answer.Status is 401 or 403)
        {
            return new(name, false, $"Not available: the server refused it to this account ({answer.Status}); sign in as an auditor.", null);
        }

        if (answer.Status is 404 && !string.IsNullOrEmpty(answer.Refusal))
        {
            // Note: a 404 with the API's own reason (no checkpoint signed yet) is not a missing endpoint: its reason is shown.
            return new(name, false, $"Not available: GET /{path} answered 404: {answer.Refusal}", null);
        }

        if (answer.Status is 404 or 405)
        {
            return new(name, false, $"Not available: this server's API does not offer it (GET /{path} answered {answer.Status}).", null);
        }

        if (!answer.Succeeded)
        {
            return new(name, false, $"Not available: GET /{path} answered {answer.Status}: {answer.Refusal}", null);
        }

        try
        {
            var data = JsonDocument.Parse(answer.Body).RootElement.Clone();
            return new(name, true, summarize(data), data);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new(name, false, $"Not available: GET /{path} answered in a shape this spe does not read ({ex.GetType().Name}).", null);
        }
    }
}
