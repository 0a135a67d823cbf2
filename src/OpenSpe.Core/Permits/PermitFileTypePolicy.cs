namespace OpenSpe.Core.Permits;

/// <summary>A direction a file crosses the project boundary in (TIR-5).</summary>
public enum TransferDirection
{
    /// <summary>A data holder's upload of a dataset file.</summary>
    Upload,

    /// <summary>A data user's import of their own file into a workspace.</summary>
    Import,

    /// <summary>An export through the airlock.</summary>
    Export,
}

/// <summary>The permit's file-type policy: which extensions may cross in each direction. An omitted list allows nothing.</summary>
public static class PermitFileTypePolicy
{
    /// <summary>The extensions the permit allows in <paramref name="direction"/> (lower case, no dot).</summary>
    public static IReadOnlyList<string> AllowedIn(PermitDocument document, TransferDirection direction)
    {
        ArgumentNullException.ThrowIfNull(document);
        var types = document.Policies?.FileTypes;
        return direction switch
        {
            TransferDirection.Upload => types?.Upload,
            TransferDirection.Import => types?.Import,
            TransferDirection.Export => types?.Export,
            _ => null,
        } ?? [];
    }

    /// <summary>True when a file of type <paramref name="extension"/> (null: a name without one) may cross in <paramref name="direction"/>.</summary>
    public static bool Allows(PermitDocument document, TransferDirection direction, string? extension) =>
        // Note: a file without an extension is refused, because the policy is a list of allowed types and "none" is not on it.
        extension is not null && AllowedIn(document, direction).Contains(extension, StringComparer.Ordinal);
}
