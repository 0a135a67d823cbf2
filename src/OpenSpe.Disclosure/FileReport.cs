namespace OpenSpe.Disclosure;

/// <summary>The outcome for one file: its status is the worst of its findings' severities (pass when it has none).</summary>
public sealed record FileReport(string File, IReadOnlyList<Finding> Findings)
{
    /// <summary>Fail when any finding fails, review when any needs review, else pass.</summary>
    public DisclosureStatus Status => Findings.Aggregate(DisclosureStatus.Pass, (s, f) => DisclosureStatusNames.Worst(s, f.Severity));
}

/// <summary>The outcome for a set of files checked together.</summary>
public sealed record DisclosureReport(IReadOnlyList<FileReport> Files)
{
    /// <summary>Fail when any file fails, review when any needs review, else pass (an empty set passes nothing: review).</summary>
    public DisclosureStatus Status => Files.Count == 0
        ? DisclosureStatus.Review
        : Files.Aggregate(DisclosureStatus.Pass, (s, f) => DisclosureStatusNames.Worst(s, f.Status));
}
