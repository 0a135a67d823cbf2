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
    public static LocalTable Read(string path) => Parse(File.ReadAllText(path, Encoding.UTF8), Path.GetFileName(path));

    /// <summary>Reads CSV text from <paramref name="reader"/>; <paramref name="name"/> names it in errors.</summary>
    public static LocalTable Read(TextReader reader, string name)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return Parse(reader.ReadToEnd(), name);
    }

    private static LocalTable Parse(string text, string name)
    {
        var position = 0;
        var header = ReadRecord(text, ref position) ?? throw new InvalidDataException($"{name} is empty: a header row is required.");
        var columns = header.Select(h => h?.Trim() ?? string.Empty).ToArray();
        if (columns.Any(string.IsNullOrEmpty))
        {
            throw new InvalidDataException($"{name} has an empty column name in its header.");
        }

        var rows = new List<string?[]>();
        while (ReadRecord(text, ref position) is { } record)
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

    /// <summary>The record at <paramref name="position"/> (moved past it), or null at the end of the text.</summary>
    private static List<string?>? ReadRecord(string text, ref int position)
    {
        if (position >= text.Length)
        {
            return null;
        }

        var fields = new List<string?>();
        while (true)
        {
            if (position < text.Length && text[position] == '"')
            {
                // A quoted field: "" inside is one quote; it ends at the quote before a comma, line end or the end.
                var field = new StringBuilder();
                position++;
                while (true)
                {
                    var close = text.IndexOf('"', position);
                    if (close < 0)
                    {
                        throw new InvalidDataException("A quoted field is not closed before the end of the file.");
                    }

                    field.Append(text, position, close - position);
                    position = close + 1;
                    if (position < text.Length && text[position] == '"')
                    {
                        field.Append('"');
                        position++;
                        continue;
                    }

                    break;
                }

                fields.Add(Cell(field.ToString(), wasQuoted: true));
                var after = EndOfField(text, position);
                if (after > position && text.AsSpan(position, after - position).Trim('\r').Length > 0)
                {
                    throw new InvalidDataException("A quoted field is followed by text before the next comma.");
                }

                position = after;
            }
            else
            {
                var end = EndOfField(text, position);
                var length = end - position;
                if (length > 0 && text[end - 1] == '\r' && (end == text.Length || text[end] == '\n'))
                {
                    length--;
                }

                fields.Add(Cell(text.Substring(position, length), wasQuoted: false));
                position = end;
            }

            if (position >= text.Length)
            {
                return fields;
            }

            var separator = text[position++];
            if (separator == '\n')
            {
                return fields;
            }
        }
    }

    /// <summary>The index of the comma or line feed that ends the field starting at <paramref name="start"/>, or the text's end.</summary>
    private static int EndOfField(string text, int start)
    {
        var end = text.AsSpan(start).IndexOfAny(',', '\n');
        return end < 0 ? text.Length : start + end;
    }

    private static string? Cell(string text, bool wasQuoted)
    {
        // Note: a quoted "NA" stays text and an unquoted NA is missing, because that is how R's read.csv reads them.
        return text.Length == 0 || (!wasQuoted && text == "NA") ? null : text;
    }
}
