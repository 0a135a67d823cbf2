using System.Text.Json;

namespace OpenSpe.Compliance;

/// <summary>One piece of live evidence: what the running SPE holds through its API, or why it is not available.</summary>
/// <param name="Name">What it is (e.g. <c>audit-verification</c>).</param>
/// <param name="Available">False when the API does not have it, or refused the caller.</param>
/// <param name="Summary">One sentence for the reader.</param>
/// <param name="Data">The API's answer, as it came, when available.</param>
public sealed record EvidenceItem(string Name, bool Available, string Summary, JsonElement? Data);

/// <summary>The counts of the requirements by status.</summary>
/// <param name="Total">Every requirement of the spec.</param>
/// <param name="Done">Those docs/requirements.md calls done.</param>
/// <param name="Partial">Those it calls partial.</param>
/// <param name="Planned">Those it calls planned.</param>
/// <param name="NotTraced">Those it has no row for.</param>
public sealed record ComplianceSummary(int Total, int Done, int Partial, int Planned, int NotTraced);

/// <summary>The compliance report (OPR-6, OPR-7): every requirement with its status and tests, and the live evidence.</summary>
/// <param name="GeneratedAt">When it was made.</param>
/// <param name="SpeVersion">The version of the OpenSPE build that made it (<c>spe</c>, or the server for the portal's report).</param>
/// <param name="Source">The spec the requirements come from.</param>
/// <param name="Server">The server the evidence was read from, or null without it (<c>spe compliance report</c> without <c>--server</c>).</param>
/// <param name="Summary">Counts by status.</param>
/// <param name="Requirements">Every requirement.</param>
/// <param name="Evidence">The live evidence (empty without <c>--server</c>).</param>
public sealed record ComplianceReport(DateTimeOffset GeneratedAt, string SpeVersion, string Source, string? Server, ComplianceSummary Summary,
    IReadOnlyList<RequirementEntry> Requirements, IReadOnlyList<EvidenceItem> Evidence)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The report over <paramref name="requirements"/> and <paramref name="evidence"/>.</summary>
    /// <param name="at">When it is made.</param>
    /// <param name="version">The version of the program that makes it.</param>
    /// <param name="server">The server the evidence was read from, or null.</param>
    /// <param name="requirements">Every requirement (<see cref="RequirementCatalog.Load"/>).</param>
    /// <param name="evidence">The live evidence (<see cref="EvidenceCollector.CollectAsync(IEvidenceSource, bool, System.Threading.CancellationToken)"/>), or none.</param>
    public static ComplianceReport Create(DateTimeOffset at, string version, string? server, IReadOnlyList<RequirementEntry> requirements, IReadOnlyList<EvidenceItem> evidence)
    {
        ArgumentNullException.ThrowIfNull(requirements);
        return new(at, version, RequirementCatalog.Source, server,
            new(requirements.Count, requirements.Count(r => r.Status == "done"), requirements.Count(r => r.Status == "partial"),
                requirements.Count(r => r.Status == "planned"), requirements.Count(r => r.Status == "not traced")),
            requirements, evidence);
    }

    /// <summary>The report as the JSON document tools read (camelCase, indented): the same text wherever it is made.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
