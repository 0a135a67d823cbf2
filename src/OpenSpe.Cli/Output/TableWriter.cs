using System.Text;

namespace OpenSpe.Cli.Output;

/// <summary>Renders readable aligned tables for the default (non-JSON) output.</summary>
internal static class TableWriter
{
    /// <summary>
    /// Writes rows under a header, columns padded to their widest cell; with no rows, the one line <paramref name="empty"/>
    /// instead (a header alone reads as if something failed to print).
    /// </summary>
    public static void Write(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows, string empty)
    {
        ArgumentNullException.ThrowIfNull(output);
        var all = rows.Select(r => r.Select(c => Clean(c ?? "")).ToArray()).ToList();
        if (all.Count == 0)
        {
            output.WriteLine(empty);
            return;
        }

        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        output.WriteLine(Line(headers.ToArray(), widths));
        foreach (var row in all)
        {
            output.WriteLine(Line(row, widths));
        }
    }

    /// <summary>Writes one object as two columns: field and value.</summary>
    public static void WriteFields(TextWriter output, IEnumerable<(string Field, string? Value)> fields)
    {
        var list = fields.ToList();
        var width = list.Count == 0 ? 0 : list.Max(f => f.Field.Length);
        foreach (var (field, value) in list)
        {
            output.WriteLine($"{field.PadRight(width)}  {Clean(value ?? "-")}");
        }
    }

    private static string Line(string[] cells, int[] widths)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < widths.Length; i++)
        {
            var cell = i < cells.Length ? cells[i] : "";
            builder.Append(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
        }

        return builder.ToString().TrimEnd();
    }

    // Note: control characters from stored data are shown escaped, so log content cannot drive the terminal.
    private static string Clean(string value) => string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
