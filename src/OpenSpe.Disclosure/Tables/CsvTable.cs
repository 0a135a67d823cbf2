namespace OpenSpe.Disclosure.Tables;

/// <summary>A small CSV read whole: the header and the rows as strings (tables, not record-level files).</summary>
internal sealed class CsvTable
{
    private readonly Dictionary<string, int> _columns;

    private CsvTable(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        Header = header;
        Rows = rows;
        _columns = [];
        for (var i = 0; i < header.Count; i++)
        {
            _columns.TryAdd(header[i], i);
        }
    }

    public IReadOnlyList<string> Header { get; }

    /// <summary>The data rows; row n of a report is <c>Rows[n - 1]</c>.</summary>
    public IReadOnlyList<string[]> Rows { get; }

    /// <summary>The column's index, or -1.</summary>
    public int Column(string name) => _columns.TryGetValue(name, out var i) ? i : -1;

    /// <summary>Parses <paramref name="text"/>; throws <see cref="CsvFormatException"/> for a malformed CSV or rows of differing width.</summary>
    public static CsvTable Parse(string text, char delimiter = ',')
    {
        var reader = new CsvReader(text, delimiter);
        if (!reader.ReadRow())
        {
            throw new CsvFormatException("the file is empty (a header row is required).");
        }

        var header = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetString(i).Trim()).ToArray();
        var rows = new List<string[]>();
        while (reader.ReadRow())
        {
            if (reader.FieldCount != header.Length)
            {
                throw new CsvFormatException($"row {rows.Count + 1} has {reader.FieldCount} fields where the header has {header.Length}.");
            }

            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetString(i))]);
        }

        return new CsvTable(header, rows);
    }

    /// <summary>The delimiter for a file name: tab for .tsv, comma otherwise.</summary>
    public static char DelimiterFor(string fileName) =>
        fileName.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
}
