using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenSpe.Disclosure.Files;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure.Descriptions;

/// <summary>
/// Writes a starting description from the files themselves (<c>spe airlock describe</c>): a CSV whose non-label columns all
/// hold non-negative integers is a frequency table, one with an at-risk column a survival table, any other CSV record-level
/// with its text columns as quasi-identifiers; images are figures (basedOn left for the researcher to fill in); other text is
/// text. It is a draft to correct, never a judgement: every guess is checked again against the content.
/// </summary>
public static class DescriptionDrafter
{
    private static readonly string[] AtRiskNames = ["n_risk", "n.risk", "at_risk", "n_at_risk", "atrisk", "number_at_risk"];

    /// <summary>The description JSON for <paramref name="paths"/>, in the exact format <see cref="OutputDescriptionParser"/> reads.</summary>
    public static string Draft(IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("outputs");
            foreach (var path in paths)
            {
                json.WriteStartObject();
                json.WriteString("file", Path.GetFileName(path));
                WriteGuess(json, path);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteGuess(Utf8JsonWriter json, string path)
    {
        var bytes = File.ReadAllBytes(path);
        var kind = ContentSniffer.Detect(bytes);
        if (kind is ContentKind.Png or ContentKind.Jpeg or ContentKind.Gif or ContentKind.Webp || FileTypeRule.Extension(path) == "svg")
        {
            json.WriteString("kind", "figure");
            json.WriteString("basedOn", "TABLE.csv");
            return;
        }

        var extension = FileTypeRule.Extension(path);
        CsvTable? table = null;
        if (kind == ContentKind.Text && extension is "csv" or "tsv")
        {
            try
            {
                table = CsvTable.Parse(Encoding.UTF8.GetString(bytes), CsvTable.DelimiterFor(path));
            }
            catch (CsvFormatException)
            {
                table = null;
            }
        }

        if (table is null)
        {
            json.WriteString("kind", "text");
            return;
        }

        var atRisk = table.Header.FirstOrDefault(h => AtRiskNames.Contains(h.ToLowerInvariant()));
        if (atRisk is not null)
        {
            json.WriteString("kind", "survival");
            json.WriteString("atRiskColumn", atRisk);
            return;
        }

        var counts = table.Header.Where((_, i) => table.Rows.Count > 0 && table.Rows.All(r => long.TryParse(r[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long _))).ToList();
        var labels = table.Header.Except(counts).ToList();
        if (counts.Count > 0 && labels.Count > 0)
        {
            json.WriteString("kind", "frequency");
            Array(json, "labelColumns", labels);
            Array(json, "countColumns", counts);
            return;
        }

        json.WriteString("kind", "records");
        Array(json, "quasiIdentifiers", labels.Count > 0 ? labels : table.Header);
        Array(json, "sensitive", []);
    }

    private static void Array(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
