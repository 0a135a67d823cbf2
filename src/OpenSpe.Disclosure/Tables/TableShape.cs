using System.Text.Json;

namespace OpenSpe.Disclosure.Tables;

/// <summary>A table found in text: its data rows and how it was recognised (words for a finding).</summary>
/// <param name="Rows">Data rows (a delimited table's header is not counted).</param>
/// <param name="Form">What the table is, for example <c>a table of 2163 rows and 12 columns separated by ','</c>.</param>
internal sealed record TableFound(int Rows, string Form);

/// <summary>
/// Recognises a table in text whatever the file is called or described as: delimited lines with a consistent number of
/// fields (comma, tab, semicolon, pipe, or runs of spaces for text that is not markup) or JSON that holds records. Note:
/// this exists because a description is the researcher's word; a file described as text, regression or figure is only
/// scanned for identifiers, so row-level data under such a description would otherwise pass unchecked.
/// </summary>
internal static class TableShape
{
    /// <summary>A small table: header and two rows, nearly every line with the same number of fields.</summary>
    private const int SmallTableLines = 3;

    /// <summary>A large table: from this many lines, half the lines suffice, so prose interleaved with the rows does not hide them.</summary>
    private const int LargeTableLines = 50;

    private static readonly char[] Delimiters = [',', '\t', ';', '|'];

    /// <summary>The largest table in <paramref name="text"/>, or null when it holds none.</summary>
    public static TableFound? Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.AsSpan().TrimStart("\uFEFF \t\r\n");
        if (trimmed.Length > 0 && trimmed[0] is '{' or '[' && Json(text) is { } json)
        {
            return json.Records >= 2 ? new TableFound(json.Records, $"JSON holding {json.Records} records") : null;
        }

        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToList();
        if (lines.Count < SmallTableLines)
        {
            return null;
        }

        TableFound? best = null;
        foreach (var delimiter in Delimiters)
        {
            Consider(ref best, lines, l => Fields(l, delimiter, quoted: true), $"'{Name(delimiter)}'");
            Consider(ref best, lines, l => Fields(l, delimiter, quoted: false), $"'{Name(delimiter)}'");
        }

        // Note: markup (SVG, HTML) has as many words on each line of a repeated element, which is a drawing, not a table.
        if (trimmed.Length > 0 && trimmed[0] != '<')
        {
            Consider(ref best, lines, l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length, "spaces", minColumns: 3);
        }

        return best;
    }

    /// <summary>
    /// The largest number of entries any one JSON array or object in <paramref name="text"/> has, or null when it is not
    /// JSON. A regression's coefficients are a few entries; residuals or data are one per person.
    /// </summary>
    public static int? LargestJsonList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.AsSpan().TrimStart("\uFEFF \t\r\n");
        return trimmed.Length > 0 && trimmed[0] is '{' or '[' ? Json(text)?.Largest : null;
    }

    private static void Consider(ref TableFound? best, List<string> lines, Func<string, int> fields, string separator, int minColumns = 2)
    {
        var counts = lines.Select(fields).ToList();
        var (columns, matching) = counts.Where(c => c >= minColumns).GroupBy(c => c).Select(g => (g.Key, g.Count())).OrderByDescending(g => g.Item2).FirstOrDefault();
        if (columns == 0)
        {
            return;
        }

        // A small table: nearly every line alike (90 %); a large one: at least half, and this many lines.
        var table = (matching >= SmallTableLines && matching * 10 >= lines.Count * 9) || (matching >= LargeTableLines && matching * 2 >= lines.Count);
        if (table && (best is null || matching - 1 > best.Rows))
        {
            best = new TableFound(matching - 1, $"a table of {matching - 1} rows and {columns} columns separated by {separator}");
        }
    }

    /// <summary>
    /// Fields on one line. Quoted: delimiters inside double quotes do not count, and a quote is closed at the line's end
    /// at the latest, so one stray quote cannot fold the rest of the file into a single field.
    /// </summary>
    private static int Fields(string line, char delimiter, bool quoted)
    {
        var fields = 1;
        var inQuotes = false;
        foreach (var c in line)
        {
            if (quoted && c == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (c == delimiter && !inQuotes)
            {
                fields++;
            }
        }

        return fields;
    }

    private static string Name(char delimiter) => delimiter == '\t' ? "tab" : delimiter.ToString();

    private static (int Records, int Largest)? Json(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 256 });
            var records = 0;
            var largest = 0;
            Walk(document.RootElement, ref records, ref largest);
            return (records, largest);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Records: an array whose entries are all objects or all arrays, or an object of equally long arrays (columns).</summary>
    private static void Walk(JsonElement element, ref int records, ref int largest)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                var length = element.GetArrayLength();
                largest = Math.Max(largest, length);
                if (length >= 2 && (element.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Object) || element.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Array)))
                {
                    records = Math.Max(records, length);
                }

                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, ref records, ref largest);
                }

                break;
            case JsonValueKind.Object:
                var properties = element.EnumerateObject().ToList();
                largest = Math.Max(largest, properties.Count);
                var columns = properties.Where(p => p.Value.ValueKind == JsonValueKind.Array).Select(p => p.Value.GetArrayLength()).ToList();
                if (columns.Count >= 2 && columns[0] >= 2 && columns.All(c => c == columns[0]))
                {
                    records = Math.Max(records, columns[0]);
                }

                foreach (var property in properties)
                {
                    Walk(property.Value, ref records, ref largest);
                }

                break;
            default:
                break;
        }
    }
}
