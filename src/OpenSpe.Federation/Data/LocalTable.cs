using System.Text;

namespace OpenSpe.Federation.Data;

/// <summary>
/// A node's table read from CSV (RFC 4180: a header row, comma separated, double quotes escape): the column names and the
/// cells as text; an empty field or <c>NA</c> is missing (null), as R's <c>read.csv</c> reads it.
/// </summary>
internal sealed class LocalTable
{
    private readonly Dictionary<string, int> _index;

    private LocalTable(IReadOnlyList<string> columns, List<string?[]> rows)
    {
        Columns = columns;
        Rows = rows;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            _index.TryAdd(columns[i], i);
        }
    }

    /// <summary>The header's column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows; each has one cell per column, null where missing.</summary>
    public IReadOnlyList<string?[]> Rows { get; }

    /// <summary>The index of <paramref name="name"/>, or -1.</summary>
    public int IndexOf(string name) => _index.TryGetValue(name, out var i) ? i : -1;

    /// <summary>Reads a CSV file.</summary>
    /// <exception cref="InvalidDataException">The file is not a CSV with a header and rows of the header's width.</exception>
    public static LocalTable Read(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Read(reader, Path.GetFileName(path));
    }

    /// <summary>Reads CSV text from <paramref name="reader"/>; <paramref name="name"/> names it in errors.</summary>
    public static LocalTable Read(TextReader reader, string name)
    {
        var header = ReadRecord(reader) ?? throw new InvalidDataException($"{name} is empty: a header row is required.");
        var columns = header.Select(h => h?.Trim() ?? string.Empty).ToArray();
        if (columns.Any(string.IsNullOrEmpty))
        {
            throw new InvalidDataException($"{name} has an empty column name in its header.");
        }

        var rows = new List<string?[]>();
        while (ReadRecord(reader) is { } record)
        {
            if (record.Count == 1 && record[0] is null)
            {
                continue; // Note: a blank line is no row, because editors add one at the end of a file.
            }

            if (record.Count != columns.Length)
            {
                throw new InvalidDataException($"{name} row {rows.Count + 1} has {record.Count} fields; the header has {columns.Length}.");
            }

            rows.Add([.. record]);
        }

        return new LocalTable(columns, rows);
    }

    private static List<string?>? ReadRecord(TextReader reader)
    {
        var first = reader.Peek();
        if (first < 0)
        {
            return null;
        }

        var fields = new List<string?>();
        var field = new StringBuilder();
        var quoted = false;
        var wasQuoted = false;
        while (true)
        {
            var c = reader.Read();
            if (quoted)
            {
                if (c < 0)
                {
                    throw new InvalidDataException("A quoted field is not closed before the end of the file.");
                }

                if (c == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append((char)c);
                }

                continue;
            }

            if (c == '"' && field.Length == 0 && !wasQuoted)
            {
                quoted = true;
                wasQuoted = true;
            }
            else if (c == ',' || c == '\n' || c < 0)
            {
                fields.Add(Cell(field, wasQuoted));
                field.Clear();
                wasQuoted = false;
                if (c != ',')
                {
                    return fields;
                }
            }
            else if (c != '\r')
            {
                if (wasQuoted)
                {
                    throw new InvalidDataException("A quoted field is followed by text before the next comma.");
                }

                field.Append((char)c);
            }
        }
    }

    private static string? Cell(StringBuilder field, bool wasQuoted)
    {
        var text = field.ToString();
        // Note: a quoted "NA" stays text and an unquoted NA is missing, because that is how R's read.csv reads them.
        return text.Length == 0 || (!wasQuoted && text == "NA") ? null : text;
    }
}
