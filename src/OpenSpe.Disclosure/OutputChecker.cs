using System.Text;
using System.Text.Json;
using OpenSpe.Disclosure.Descriptions;
using OpenSpe.Disclosure.Files;
using OpenSpe.Disclosure.Images;
using OpenSpe.Disclosure.Rules;
using OpenSpe.Disclosure.Tables;

namespace OpenSpe.Disclosure;

/// <summary>
/// Checks output files against their descriptions and a policy: file type by extension and content, the file's own content
/// whatever it is described as (direct identifiers in every text file; an image's structure, metadata and any bytes after
/// its end), then the rules of the file's described kind. A file without a description, or whose description does not fit
/// its content (a table described as text, regression or figure), is <see cref="DisclosureStatus.Review"/>, never
/// <see cref="DisclosureStatus.Pass"/>.
/// </summary>
/// <param name="policy">The rule parameters.</param>
/// <param name="allowedTypes">The extension allow-list (lower case, no dot); null: <see cref="FileTypeRule.DefaultExportTypes"/>.</param>
public sealed class OutputChecker(DisclosurePolicy policy, IReadOnlyCollection<string>? allowedTypes = null)
{
    private readonly IReadOnlyCollection<string> _allowed = allowedTypes ?? FileTypeRule.DefaultExportTypes;

    /// <summary>Checks each file in <paramref name="paths"/>; descriptions are matched by file name.</summary>
    public DisclosureReport Check(IReadOnlyList<string> paths, IReadOnlyList<OutputDescription> descriptions)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(descriptions);
        return new DisclosureReport([.. paths.Select(p => CheckFile(p, descriptions))]);
    }

    /// <summary>Checks one file.</summary>
    public FileReport CheckFile(string path, IReadOnlyList<OutputDescription> descriptions)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(descriptions);
        var name = Path.GetFileName(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new FileReport(name, [Findings.Review("file.unreadable", $"the file could not be read ({e.GetType().Name}).")]);
        }

        var kind = ContentSniffer.Detect(bytes);
        var findings = new List<Finding>(FileTypeRule.Check(name, kind, _allowed));
        if (kind is ContentKind.Archive or ContentKind.Executable or ContentKind.UnknownBinary)
        {
            return new FileReport(name, findings);
        }

        string? text = null;
        if (kind == ContentKind.Text)
        {
            findings.AddRange(IdentifierRule.Check([(null, bytes)]));
            text = Encoding.UTF8.GetString(bytes);
        }
        else
        {
            // Note: an image is judged on its own bytes whatever its description says, because the preview shows only its
            // pixels: data after its end marker or in its metadata would otherwise leave unread.
            findings.AddRange(ImageRule.Check(kind, bytes));
        }

        if (descriptions.OfType<MagnitudeDescription>().Any(m => m.Contributions == name))
        {
            // Note: the contributions behind a magnitude table are per-person values; they are an input to the check, never an output.
            findings.Add(Findings.Fail("magnitude.contributions-file", "this is the contributions file of a magnitude table, which never leaves.", []));
        }

        var description = descriptions.FirstOrDefault(d => d.File == name);
        if (description is null)
        {
            findings.Add(Findings.Review("description.missing", "the file is not described, so no rule could judge it."));
            return new FileReport(name, findings);
        }

        if (description is FigureDescription figure)
        {
            findings.AddRange(FigureContent(text));
            findings.AddRange(Figure(path, figure, descriptions));
        }
        else
        {
            findings.AddRange(Rules(path, text, description));
        }

        return new FileReport(name, findings);
    }

    private IEnumerable<Finding> Figure(string path, FigureDescription figure, IReadOnlyList<OutputDescription> descriptions)
    {
        var table = descriptions.FirstOrDefault(d => d.File == figure.BasedOn);
        if (table is null or FigureDescription)
        {
            return [Findings.Review("figure.based-on", "the figure's basedOn names no described table.")];
        }

        var tablePath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, figure.BasedOn);
        if (!File.Exists(tablePath))
        {
            return [Findings.Review("figure.based-on", "the table the figure is based on is not next to it, so the figure cannot be checked.")];
        }

        var bytes = File.ReadAllBytes(tablePath);
        var text = ContentSniffer.Detect(bytes) == ContentKind.Text ? Encoding.UTF8.GetString(bytes) : null;

        // A figure shows its table's numbers: it fails or needs review exactly when its table would.
        return Rules(tablePath, text, table).Select(f => f with { Reason = $"in {figure.BasedOn}, the table the figure is based on: {f.Reason}" });
    }

    /// <summary>
    /// A figure's own content: an image (judged above, with its metadata) or SVG. Note: the figure is checked as its basedOn
    /// table too, but that says nothing about what the figure file itself holds, so text that is no SVG is not a figure.
    /// </summary>
    private static IEnumerable<Finding> FigureContent(string? text)
    {
        if (text is null)
        {
            return [];
        }

        if (!text.Contains("<svg", StringComparison.OrdinalIgnoreCase))
        {
            return [Findings.Review("description.fit", "described as a figure, but the content is text, not an image or SVG."), .. NotATable(text, "a figure")];
        }

        return NotATable(text, "a figure");
    }

    /// <summary>
    /// Note: a file described as text or figure is only scanned for identifiers, so a table under such a description would
    /// leave with its cells unchecked; it goes to review with the words that fix it.
    /// </summary>
    private static IEnumerable<Finding> NotATable(string text, string described) =>
        TableShape.Find(text) is { } table
            ? [Findings.Review("description.table",
                $"described as {described}, but its content is {table.Form}; describe it as a table (frequency, magnitude, survival or records) so its cells are checked.")]
            : [];

    private IEnumerable<Finding> Rules(string path, string? text, OutputDescription description)
    {
        if (description is RegressionDescription regression)
        {
            return text is null
                ? [Findings.Review("description.fit", "described as a regression, but the content is not text (a regression's results are a table or text of coefficients).")]
                : [.. RegressionRule.Check(regression, policy), .. RegressionRule.CheckShape(text, regression)];
        }

        if (description is TextDescription)
        {
            return text is null ? [Findings.Review("description.fit", "described as text, but the content is not text.")] : NotATable(text, "text");
        }

        if (text is null)
        {
            return [Findings.Review("description.fit", $"described as a {Kind(description)} table, but the content is not text.")];
        }

        var delimiter = CsvTable.DelimiterFor(path);
        try
        {
            return description switch
            {
                FrequencyDescription frequency => [.. FrequencyRule.Check(CsvTable.Parse(text, delimiter), frequency, policy)],
                SurvivalDescription survival => [.. SurvivalRule.Check(CsvTable.Parse(text, delimiter), survival, policy)],
                RecordsDescription records => RecordsRule.Check(text, delimiter, records, policy),
                MagnitudeDescription magnitude => Magnitude(path, text, delimiter, magnitude),
                _ => [Findings.Review("description.fit", "the description's kind has no rule.")],
            };
        }
        catch (CsvFormatException e)
        {
            return [Findings.Review("description.fit", $"described as a {Kind(description)} table, but the file is not a valid CSV: {e.Message}")];
        }
    }

    private List<Finding> Magnitude(string path, string text, char delimiter, MagnitudeDescription magnitude)
    {
        var contributionsPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, magnitude.Contributions);
        if (!File.Exists(contributionsPath))
        {
            return [Findings.Review("description.contributions", "the contributions file is not next to the table, so its cells cannot be checked.")];
        }

        var bytes = File.ReadAllBytes(contributionsPath);
        if (ContentSniffer.Detect(bytes) != ContentKind.Text)
        {
            return [Findings.Review("description.contributions", "the contributions file is not text.")];
        }

        var contributions = CsvTable.Parse(Encoding.UTF8.GetString(bytes), CsvTable.DelimiterFor(contributionsPath));
        return [.. MagnitudeRule.Check(CsvTable.Parse(text, delimiter), contributions, magnitude, policy)];
    }

    private static string Kind(OutputDescription description) =>
        JsonNamingPolicy.CamelCase.ConvertName(description.GetType().Name.Replace("Description", "", StringComparison.Ordinal));
}
