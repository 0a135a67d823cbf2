namespace OpenSpe.Server.Portal;

/// <summary>A file's preview for an output checker: a table for CSV and TSV, an image, text otherwise, or why there is none.</summary>
/// <param name="Text">The text (as the API gave it: at most its first 64 KiB).</param>
/// <param name="Rows">The cells of a CSV or TSV file, the first row as its header.</param>
/// <param name="Missing">Why there is no preview.</param>
/// <param name="Truncated">True when the table stops before the file's end.</param>
/// <param name="ImageUrl">The portal's address of an image's bytes (the page's handler that relays the API's image preview).</param>
internal sealed record FilePreview(string? Text, IReadOnlyList<IReadOnlyList<string>>? Rows, string? Missing, bool Truncated, string? ImageUrl = null)
{
    private const int MaxRows = 200;

    /// <summary>No preview, and why.</summary>
    public static FilePreview None(string? why) => new(null, null, why ?? PortalText.Get("NoPreview"), false);

    /// <summary>An image shown from <paramref name="url"/>.</summary>
    public static FilePreview Image(string url) => new(null, null, null, false, url);

    /// <summary>The preview of <paramref name="text"/>, the start of file <paramref name="name"/>.</summary>
    public static FilePreview Of(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(text);
        var extension = Path.GetExtension(name).ToLowerInvariant();
        if (extension is not (".csv" or ".tsv"))
        {
            return new FilePreview(text, null, null, false);
        }

        var rows = Table(text, extension == ".tsv" ? '\t' : ',');
        return new FilePreview(text, rows.Take(MaxRows).ToList(), null, rows.Count > MaxRows || text.Length >= 60 * 1024);
    }

    // RFC 4180 fields: quoted fields may hold the separator, line breaks and doubled quotes.
    private static List<IReadOnlyList<string>> Table(string text, char separator)
    {
        var rows = new List<IReadOnlyList<string>>();
        var row = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == separator)
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\n')
            {
                row.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else
            {
                field.Append(c);
            }
        }

        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString().TrimEnd('\r'));
            rows.Add(row);
        }

        return rows;
    }
}

/// <summary>
/// The cells and rows of a CSV or TSV preview that the automatic disclosure checks named in their findings, so the review
/// page can mark them in the table (issue #18: "tables with the failing cells marked"). The rules name a cell
/// "row 3, column count" and a row "row 7" (1 = the first row after the header); other positions (a place in text, a part
/// of a file) mark nothing in the table and stay listed in the report.
/// </summary>
internal sealed class FlaggedCells
{
    private readonly Dictionary<(int Row, string Column), SortedSet<string>> _cells = [];
    private readonly Dictionary<int, SortedSet<string>> _rows = [];

    /// <summary>Nothing flagged.</summary>
    public static FlaggedCells None { get; } = new();

    /// <summary>True when at least one cell or row is flagged.</summary>
    public bool Any => _cells.Count > 0 || _rows.Count > 0;

    /// <summary>The flags of the findings of one file's report (its <c>findings</c> array as the API gives it).</summary>
    public static FlaggedCells From(System.Text.Json.JsonElement findings)
    {
        var flagged = new FlaggedCells();
        if (findings.ValueKind != System.Text.Json.JsonValueKind.Array)
        {
            return flagged;
        }

        foreach (var finding in findings.EnumerateArray())
        {
            if (finding.ValueKind != System.Text.Json.JsonValueKind.Object
                || !finding.TryGetProperty("positions", out var positions) || positions.ValueKind != System.Text.Json.JsonValueKind.Array)
            {
                continue;
            }

            var rule = finding.TryGetProperty("rule", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String ? r.GetString()! : "?";
            foreach (var position in positions.EnumerateArray())
            {
                if (position.ValueKind == System.Text.Json.JsonValueKind.String)
                {
                    flagged.Add(position.GetString()!, rule);
                }
            }
        }

        return flagged;
    }

    /// <summary>The rules that flagged the cell of data row <paramref name="row"/> in column <paramref name="column"/>, or null.</summary>
    public string? Cell(int row, string column) =>
        _cells.TryGetValue((row, column), out var rules) ? string.Join(", ", rules) : null;

    /// <summary>The rules that flagged data row <paramref name="row"/> as a whole, or null.</summary>
    public string? Row(int row) => _rows.TryGetValue(row, out var rules) ? string.Join(", ", rules) : null;

    private void Add(string position, string rule)
    {
        const string RowPrefix = "row ";
        const string ColumnSeparator = ", column ";
        if (!position.StartsWith(RowPrefix, StringComparison.Ordinal))
        {
            return;
        }

        var comma = position.IndexOf(ColumnSeparator, StringComparison.Ordinal);
        var number = comma < 0 ? position[RowPrefix.Length..] : position[RowPrefix.Length..comma];
        if (!int.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var row) || row < 1)
        {
            return;
        }

        var rules = comma < 0
            ? _rows.TryGetValue(row, out var forRow) ? forRow : _rows[row] = new SortedSet<string>(StringComparer.Ordinal)
            : _cells.TryGetValue((row, position[(comma + ColumnSeparator.Length)..]), out var forCell) ? forCell
                : _cells[(row, position[(comma + ColumnSeparator.Length)..])] = new SortedSet<string>(StringComparer.Ordinal);
        rules.Add(rule);
    }
}
