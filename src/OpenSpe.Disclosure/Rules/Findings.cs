namespace OpenSpe.Disclosure.Rules;

/// <summary>Shorthands for building findings and positions in the one wording every rule uses.</summary>
internal static class Findings
{
    public static Finding Fail(string rule, string reason, IReadOnlyList<string> positions) => new(rule, reason, positions, DisclosureStatus.Fail);

    public static Finding Review(string rule, string reason, IReadOnlyList<string>? positions = null) => new(rule, reason, positions ?? [], DisclosureStatus.Review);

    /// <summary>A cell: data row (1 = the first row after the header) and column name.</summary>
    public static string Cell(int row, string column) => $"row {row}, column {column}";

    /// <summary>A data row (1 = the first row after the header).</summary>
    public static string Row(int row) => $"row {row}";

    /// <summary>A place in text, both 1-based.</summary>
    public static string Text(int line, int column) => $"line {line}, column {column}";
}
