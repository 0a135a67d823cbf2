using System.Text.RegularExpressions;

namespace OpenSpe.Server.Tests.Docs;

/// <summary>
/// docs/requirements.md says, for each requirement, how far it is met and which tests prove it. These tests keep
/// it honest: every row has a status, every test it names exists in the test sources, and every requirement a
/// test's trait names has a row (a review found a cited test that did not exist, and rows claiming more than was built).
/// </summary>
public sealed partial class RequirementsDocumentTests
{
    private static readonly string Root = RepositoryRoot();
    private static readonly List<Row> Rows = ReadRows();
    private static readonly TestSources Sources = TestSources.Read(Path.Combine(Root, "tests"));

    [Fact]
    public void Every_row_has_a_status_of_done_partial_or_planned()
    {
        Assert.NotEmpty(Rows);
        var bad = Rows.Where(r => !StatusPattern().IsMatch(r.Status)).Select(r => $"{r.Id}: status '{r.Status}'").ToList();

        Assert.True(bad.Count == 0, "rows without a status of done, partial (with what is missing) or planned:\n" + string.Join("\n", bad));
    }

    [Fact]
    public void Every_test_a_row_names_exists()
    {
        var missing = new List<string>();
        foreach (var row in Rows)
        {
            string? previousClass = null;
            foreach (Match reference in BacktickPattern().Matches(row.Tests))
            {
                var problem = Sources.Resolve(reference.Groups[1].Value, ref previousClass);
                if (problem is not null)
                {
                    missing.Add($"{row.Id}: `{reference.Groups[1].Value}` {problem}");
                }
            }
        }

        Assert.True(missing.Count == 0, "tests named in docs/requirements.md that do not exist:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_requirement_a_test_traces_has_a_row()
    {
        var rows = Rows.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var orphans = Sources.RequirementTraits.Where(t => !rows.Contains(t.Id)).Select(t => $"{t.Id} (in {t.File})").Distinct().ToList();

        Assert.True(orphans.Count == 0, "requirements traced by a test trait but absent from docs/requirements.md:\n" + string.Join("\n", orphans));
    }

    [Fact]
    public void A_made_up_test_name_is_reported()
    {
        // The resolver must not accept whatever it is given: a name that exists nowhere is reported, and so is a real
        // class with a made-up method (the review's example was a test cited under a real class that did not exist).
        string? previous = null;

        Assert.NotNull(Sources.Resolve("NoSuchTestsAnywhere", ref previous));
        Assert.NotNull(Sources.Resolve("Docs/RequirementsDocumentTests.Admin_and_operator_policies_open_no_project_data_endpoint", ref previous));
        Assert.Null(Sources.Resolve("Docs/RequirementsDocumentTests.Every_test_a_row_names…", ref previous));
        Assert.NotNull(Sources.Resolve("…no_such_method_of_the_previous_class", ref previous));
        Assert.Null(Sources.Resolve("…made_up_test_name…", ref previous));
    }

    private static List<Row> ReadRows()
    {
        var rows = new List<Row>();
        foreach (var line in File.ReadLines(Path.Combine(Root, "docs", "requirements.md")))
        {
            if (!line.StartsWith("| ", StringComparison.Ordinal) || line.StartsWith("| ID ", StringComparison.Ordinal) || line.StartsWith("| ---", StringComparison.Ordinal))
            {
                continue;
            }

            // | ID | status | requirement | code | tests |
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.True(cells.Length == 5, $"a requirements row must have 5 cells (ID, status, requirement, code, tests): {line}");
            rows.Add(new Row(cells[0], cells[1], cells[4]));
        }

        return rows;
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("repository root (OpenSpe.slnx) not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("^(done|planned|partial: .+)$")]
    private static partial Regex StatusPattern();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex BacktickPattern();

    private sealed record Row(string Id, string Status, string Tests);
}
