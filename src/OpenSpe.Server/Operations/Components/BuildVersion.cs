namespace OpenSpe.Server.Operations.Components;

/// <summary>The SPE build's informational version (<c>1.0.0+commit</c>) as the inventory and the federated components' identity show it.</summary>
internal static class BuildVersion
{
    /// <summary>The release before <c>+</c> and the source commit after it (null without one).</summary>
    public static (string Version, string? Commit) Split(string informational)
    {
        ArgumentNullException.ThrowIfNull(informational);
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, null) : (informational[..plus], informational[(plus + 1)..]);
    }
}
