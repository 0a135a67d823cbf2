using System.Text.RegularExpressions;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Docs;

/// <summary>
/// docs/requirements.md says, for each requirement, how far it is met and which tests prove it. These tests keep
/// it honest: every row has a status, its tests cell holds only test references and every one of them names a test
/// that exists, and every requirement a test's trait names has a row that is not merely planned (a review found a
/// cited test that did not exist, and rows claiming more than was built).
/// </summary>
public sealed partial class RequirementsDocumentTests
{
    private const string Header = "| ID | status | requirement | code | tests |";

    private static readonly string Root = RepositoryRoot.Path;
    private static readonly TestSources Sources = TestSources.Read(Path.Combine(Root, "tests"));
    private static readonly Lazy<List<Row>> Table = new(() => ReadRows(File.ReadAllLines(Path.Combine(Root, "docs", "requirements.md"))));

    private static List<Row> Rows => Table.Value;

    [Fact]
    public void Every_row_has_an_id_of_its_own_and_a_status_of_done_partial_or_planned()
    {
        Assert.NotEmpty(Rows);
        var bad = Rows.Where(r => !IdPattern().IsMatch(r.Id)).Select(r => $"{r.Id}: not a requirement ID")
            .Concat(Rows.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {g.Count()} rows"))
            .Concat(Rows.Where(r => !StatusPattern().IsMatch(r.Status)).Select(r => $"{r.Id}: status '{r.Status}'"))
            .ToList();

        Assert.True(bad.Count == 0, "rows without an ID of their own, or without a status of done, partial: <what is missing>, or planned:\n" + string.Join("\n", bad));
    }

    [Fact]
    public void The_tests_cell_holds_only_test_references_and_a_done_row_names_one()
    {
        var bad = new List<string>();
        foreach (var row in Rows)
        {
            if (!TestsCellPattern().IsMatch(row.Tests))
            {
                bad.Add($"{row.Id}: the tests cell holds more than `references` separated by commas (prose goes in the code cell or a note): {row.Tests}");
            }
            else if (row.Status == "done" && row.References.Count == 0)
            {
                bad.Add($"{row.Id}: done, but names no test");
            }
            else if (row.Status == "planned" && row.References.Count > 0)
            {
                bad.Add($"{row.Id}: planned, but names tests (then something is built: partial)");
            }
        }

        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Fact]
    public void Every_test_a_row_names_exists()
    {
        var missing = new List<string>();
        foreach (var row in Rows)
        {
            IReadOnlyList<TestSources.TestClass>? previous = null;
            foreach (var reference in row.References)
            {
                var problem = Sources.Resolve(reference, ref previous);
                if (problem is not null)
                {
                    missing.Add($"{row.Id}: `{reference}` {problem}");
                }
            }
        }

        Assert.True(missing.Count == 0, "tests named in docs/requirements.md that do not exist:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_requirement_a_test_traces_has_a_row_that_is_not_only_planned()
    {
        var rows = Rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var bad = Sources.RequirementTraits
            .Where(t => !rows.TryGetValue(t.Id, out var row) || row.Status == "planned")
            .Select(t => rows.ContainsKey(t.Id) ? $"{t.Id} (in {t.File}): a test checks it, but its row says planned" : $"{t.Id} (in {t.File}): no row")
            .Distinct()
            .ToList();

        Assert.NotEmpty(Sources.RequirementTraits);
        Assert.True(bad.Count == 0, "requirements traced by a test trait but absent from docs/requirements.md, or marked planned there:\n" + string.Join("\n", bad));
    }

    [Fact]
    public void A_made_up_test_name_is_reported()
    {
        // The resolver must not accept whatever it is given: a name that exists nowhere is reported, and so is a real
        // class with a made-up method (the review's example was a test cited under a real class that did not exist),
        // a method of another class of the same file, a helper that is not a test, and a bare wildcard.
        IReadOnlyList<TestSources.TestClass>? previous = null;

        Assert.NotNull(Sources.Resolve("NoSuchTestsAnywhere", ref previous));
        Assert.NotNull(Sources.Resolve("…no_class_named_before", ref previous));
        Assert.NotNull(Sources.Resolve("Docs/RequirementsDocumentTests.Admin_and_operator_policies_open_no_project_data_endpoint", ref previous));
        Assert.NotNull(Sources.Resolve("Permits/RequirementsDocumentTests", ref previous));
        Assert.NotNull(Sources.Resolve("TestSources", ref previous));
        Assert.NotNull(Sources.Resolve("RequirementsDocumentTests.ReadRows", ref previous));
        Assert.NotNull(Sources.Resolve("RequirementsDocumentTests.…", ref previous));
        Assert.NotNull(Sources.Resolve("…", ref previous));
        Assert.NotNull(Sources.Resolve("NoSuchFolder/…", ref previous));
        Assert.Null(Sources.Resolve("Docs/RequirementsDocumentTests.Every_test_a_row_names…", ref previous));
        Assert.Null(Sources.Resolve("…made_up_test_name…", ref previous));
        Assert.NotNull(Sources.Resolve("…no_such_method_of_the_previous_class", ref previous));

        // Tests of a behaviour suite belong to the backends' subclasses too, not to the other classes of its file.
        Assert.Null(Sources.Resolve("Permits/SqlitePermitLifecycleTests.Hdab_issues_a_permit…", ref previous));
        Assert.Null(Sources.Resolve("Server.Tests/Docs/…", ref previous));
        Assert.NotNull(Sources.Resolve("StreamingAuditTests.Host.InitializeAsync", ref previous));
        Assert.NotNull(Sources.Resolve("Host.InitializeAsync", ref previous));
    }

    [Fact]
    public void A_table_row_that_is_not_five_cells_is_refused()
    {
        string[] document = [Header, "| --- | --- | --- | --- | --- |", "| SDR-1 | done | short | code |"];

        Assert.Throws<InvalidDataException>(() => ReadRows(document));
        Assert.Throws<InvalidDataException>(() => ReadRows(["no table here"]));
    }

    private static List<Row> ReadRows(string[] lines)
    {
        var header = Enumerable.Range(0, lines.Length).Where(i => lines[i].Trim() == Header).ToList();
        if (header.Count != 1 || header[0] + 1 >= lines.Length || !lines[header[0] + 1].StartsWith("| ---", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"docs/requirements.md must hold one table whose header is {Header}");
        }

        var rows = new List<Row>();
        foreach (var line in lines.Skip(header[0] + 2).TakeWhile(l => l.StartsWith('|')))
        {
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length != 5)
            {
                throw new InvalidDataException($"a requirements row must have 5 cells (ID, status, requirement, code, tests): {line}");
            }

            rows.Add(new Row(cells[0], cells[1], cells[4], [.. BacktickPattern().Matches(cells[4]).Select(m => m.Groups[1].Value)]));
        }

        return rows;
    }

    [GeneratedRegex(@"^[A-Z]+-[1-9][0-9]*$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^(done|planned|partial: .{10,})$")]
    private static partial Regex StatusPattern();

    [GeneratedRegex("^(—|`[^`]+`(, `[^`]+`)*)$")]
    private static partial Regex TestsCellPattern();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex BacktickPattern();

    private sealed record Row(string Id, string Status, string Tests, List<string> References);
}
