using System.Text.Json;

namespace OpenSpe.Cli.Compliance;

/// <summary>One piece of live evidence: what the running SPE holds through its API, or why it is not available.</summary>
/// <param name="Name">What it is (e.g. <c>audit-verification</c>).</param>
/// <param name="Available">False when the API does not have it, or refused the caller.</param>
/// <param name="Summary">One sentence for the reader.</param>
/// <param name="Data">The API's answer, as it came, when available.</param>
internal sealed record EvidenceItem(string Name, bool Available, string Summary, JsonElement? Data);

/// <summary>The counts of the requirements by status.</summary>
internal sealed record ComplianceSummary(int Total, int Done, int Partial, int Planned, int NotTraced);

/// <summary>The compliance report (OPR-6, OPR-7): every requirement with its status and tests, and the live evidence.</summary>
/// <param name="GeneratedAt">When it was made.</param>
/// <param name="SpeVersion">The version of the <c>spe</c> that made it.</param>
/// <param name="Source">The spec the requirements come from.</param>
/// <param name="Server">The server the evidence was read from, or null without <c>--server</c>.</param>
/// <param name="Summary">Counts by status.</param>
/// <param name="Requirements">Every requirement.</param>
/// <param name="Evidence">The live evidence (empty without <c>--server</c>).</param>
internal sealed record ComplianceReport(DateTimeOffset GeneratedAt, string SpeVersion, string Source, string? Server, ComplianceSummary Summary,
    IReadOnlyList<RequirementEntry> Requirements, IReadOnlyList<EvidenceItem> Evidence)
{
    /// <summary>The report over <paramref name="requirements"/> and <paramref name="evidence"/>.</summary>
    public static ComplianceReport Create(DateTimeOffset at, string version, string? server, IReadOnlyList<RequirementEntry> requirements, IReadOnlyList<EvidenceItem> evidence) =>
        new(at, version, RequirementCatalog.Source, server,
            new(requirements.Count, requirements.Count(r => r.Status == "done"), requirements.Count(r => r.Status == "partial"),
                requirements.Count(r => r.Status == "planned"), requirements.Count(r => r.Status == "not traced")),
            requirements, evidence);
}
