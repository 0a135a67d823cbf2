using System.Globalization;
using System.Net;
using System.Text.Json;
using OpenSpe.Cli.Client;

namespace OpenSpe.Cli.Compliance;

/// <summary>
/// Reads the live evidence from a running SPE through its API, as the signed-in person (an auditor sees all of it). Each item
/// that the API does not have, or refuses to this person, says so and why; nothing is guessed.
/// </summary>
internal static class EvidenceCollector
{
    /// <summary>Collects every evidence item, in a fixed order.</summary>
    public static async Task<IReadOnlyList<EvidenceItem>> CollectAsync(SpeApiClient api, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        return
        [
            await ItemAsync(api, "audit-verification", "api/v1/audit/verify", d =>
                d.GetProperty("valid").GetBoolean()
                    ? $"The audit chain verified now: {d.GetProperty("recordsChecked").GetInt64()} records and {d.GetProperty("checkpointsChecked").GetInt64()} checkpoints."
                    : "The audit chain did NOT verify now; see the details.", cancellationToken),
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
                return $"{(more ? "At least " : "")}{count} alert(s) fired and not yet acknowledged (the rules in force are the server's configuration, docs/monitoring.md).";
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

    /// <summary>A backup or drill from the evidence endpoint, in words: its name, time and outcome, or "none recorded".</summary>
    private static string Event(JsonElement evidence, string name) => !evidence.TryGetProperty(name, out var e) || e.ValueKind != JsonValueKind.Object
        ? "none recorded"
        : $"{e.GetProperty("backup").GetString()} at {e.GetProperty("at").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)}, {e.GetProperty("outcome").GetString()}";

    private static async Task<EvidenceItem> ItemAsync(SpeApiClient api, string name, string path, Func<JsonElement, string> summarize, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await api.SendAsync(HttpMethod.Get, path, null, cancellationToken);
            var data = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
            return new(name, true, summarize(data), data);
        }
        catch (ApiProblemException ex) when (ex.Status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            return new(name, false, $"Not available: the server refused it to this account ({(int)ex.Status}); sign in as an auditor.", null);
        }
        catch (ApiProblemException ex) when (ex.Status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return new(name, false, $"Not available: this server's API does not offer it (GET /{path} answered {(int)ex.Status}).", null);
        }
        catch (ApiProblemException ex)
        {
            return new(name, false, $"Not available: GET /{path} answered {(int)ex.Status}: {ProblemText.OneLine(ex.Message)}", null);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new(name, false, $"Not available: GET /{path} answered in a shape this spe does not read ({ex.GetType().Name}).", null);
        }
    }
}
