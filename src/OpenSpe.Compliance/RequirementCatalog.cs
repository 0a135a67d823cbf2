using System.Text.RegularExpressions;

namespace OpenSpe.Compliance;

/// <summary>One requirement of the spec with what this build's docs/requirements.md says of it.</summary>
/// <param name="Id">The spec's ID, e.g. <c>OPR-23</c>.</param>
/// <param name="Text">The requirement as the spec words it.</param>
/// <param name="Level">MUST, SHOULD or MAY (the first the text uses), or "-".</param>
/// <param name="Status"><c>done</c>, <c>partial</c>, <c>planned</c>, or <c>not traced</c> when docs/requirements.md has no row.</param>
/// <param name="StatusDetail">What a partial row says is missing; empty otherwise.</param>
/// <param name="Code">Where the docs say the code is.</param>
/// <param name="Tests">The tests that carry the ID, as docs/requirements.md lists them.</param>
public sealed record RequirementEntry(string Id, string Text, string Level, string Status, string StatusDetail, string Code, IReadOnlyList<string> Tests);

/// <summary>
/// The spec's 119 requirement IDs (embedded <c>spec-requirements.tsv</c>, copied from the spec) joined with the traceability
/// table (embedded docs/requirements.md). The tests named per ID come from that table, which
/// <c>RequirementsDocumentTests</c> keeps true: every test it names exists, and every <c>[Trait("Requirement", …)]</c> has a row.
/// </summary>
public static partial class RequirementCatalog
{
    /// <summary>The spec's source, for the report's header.</summary>
    public const string Source = "TEHDAS2 consultation 7.4, Draft technical, functional and security specifications of Secure Processing Environments, Appendix B";

    /// <summary>Every requirement of the spec, in the spec's order.</summary>
    public static IReadOnlyList<RequirementEntry> Load() => Join(Read("spec-requirements.tsv"), Read("requirements.md"));

    /// <summary>Joins the spec's lines (ID, tab, text) with the traceability table's rows.</summary>
    /// <param name="spec">The spec's lines.</param>
    /// <param name="requirementsMarkdown">docs/requirements.md.</param>
    public static IReadOnlyList<RequirementEntry> Join(string spec, string requirementsMarkdown)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(requirementsMarkdown);
        var rows = Rows(requirementsMarkdown);
        var entries = new List<RequirementEntry>();
        foreach (var line in spec.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                continue;
            }

            var tab = trimmed.IndexOf('\t', StringComparison.Ordinal);
            var (id, text) = (trimmed[..tab], trimmed[(tab + 1)..]);
            var level = LevelPattern().Match(text) is { Success: true } m ? m.Value : "-";
            if (rows.TryGetValue(id, out var row))
            {
                var status = row.Status.StartsWith("partial", StringComparison.Ordinal) ? "partial" : row.Status.Trim();
                var detail = status == "partial" ? row.Status["partial".Length..].TrimStart(':', ' ') : "";
                entries.Add(new(id, text, level, status, detail, row.Code, row.Tests));
            }
            else
            {
                entries.Add(new(id, text, level, "not traced", "", "", []));
            }
        }

        return entries;
    }

    private static Dictionary<string, (string Status, string Code, IReadOnlyList<string> Tests)> Rows(string markdown)
    {
        var rows = new Dictionary<string, (string, string, IReadOnlyList<string>)>(StringComparer.Ordinal);
        foreach (var line in markdown.Split('\n'))
        {
            // Note: the table's rows are "| ID | status | requirement | code | tests |"; no cell holds a '|' (the docs' rule).
            var cells = line.TrimEnd('\r').Split('|');
            if (cells.Length < 7 || !IdPattern().IsMatch(cells[1].Trim()))
            {
                continue;
            }

            var tests = TestPattern().Matches(cells[5]).Select(t => t.Groups[1].Value).ToList();
            rows[cells[1].Trim()] = (cells[2].Trim(), cells[4].Trim(), tests);
        }

        return rows;
    }

    private static string Read(string name)
    {
        using var stream = typeof(RequirementCatalog).Assembly.GetManifestResourceStream("OpenSpe.Compliance." + name)
            ?? throw new InvalidOperationException($"The build carries no {name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^[A-Z]+-[0-9]+$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"\b(MUST|SHOULD|MAY)\b")]
    private static partial Regex LevelPattern();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex TestPattern();
}
