namespace OpenSpe.Disclosure;

/// <summary>The outcome of checking a file, or a set of files.</summary>
public enum DisclosureStatus
{
    /// <summary>Every rule passed: the file may be released (after the human review the airlock also requires).</summary>
    Pass,

    /// <summary>A person must look: the checks could not decide (undescribed file, description that does not fit, negative values).</summary>
    Review,

    /// <summary>A rule failed: the file must not leave as it is.</summary>
    Fail,
}

/// <summary>The lower-case names the reports use.</summary>
public static class DisclosureStatusNames
{
    /// <summary>"pass", "review" or "fail".</summary>
    public static string ToName(this DisclosureStatus status) => status switch
    {
        DisclosureStatus.Pass => "pass",
        DisclosureStatus.Review => "review",
        _ => "fail",
    };

    /// <summary>The worse of two outcomes (fail over review over pass).</summary>
    public static DisclosureStatus Worst(DisclosureStatus a, DisclosureStatus b) => (DisclosureStatus)Math.Max((int)a, (int)b);
}
