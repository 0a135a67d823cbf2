using System.Text.Json;
using OpenSpe.Disclosure;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Rows;

namespace OpenSpe.Federation.Tests.Rows;

/// <summary>The row count as the runner runs it on one dataset's files: data rows of its CSV files, small counts withheld.</summary>
public sealed class RowCountTests : IDisposable
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly Nodes _nodes = new();

    [Theory]
    [Trait("Requirement", "FCR-6")]
    [InlineData("a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n", "", 5, "5")]
    [InlineData("a,b\n1,2\n3,4\n5,6\n7,8\n9,10", "", 5, "5")]
    [InlineData("a,b\n1,2\n3,4\n", "a\n1\n2\n3\n", 5, "5")]
    [InlineData("a,b\n1,2\n3,4\n", "", 5, "-")]
    [InlineData("a,b\n1,2\n", "", 2, "-")]
    [InlineData("a,b\n", "", 5, "0")]
    public async Task Counts_the_data_rows_of_every_csv_file_and_withholds_a_count_below_the_threshold(string first, string second, int threshold, string expected)
    {
        var files = new List<(string, string)> { ("first.csv", first), ("notes.txt", "not\ncounted\n") };
        if (second.Length > 0)
        {
            files.Add(("SECOND.CSV", second));
        }

        var outcome = await new RowCountNodeAnalysis().RunAsync("{}", _nodes.Directory([.. files]), Policy(threshold), TestContext.Current.CancellationToken);

        var count = JsonSerializer.Deserialize<RowCountAggregate>(outcome.AggregateJson!, Web)!;
        Assert.Equal(threshold, count.Threshold);
        Assert.Equal(expected == "-", count.Suppressed);
        Assert.Equal(expected == "-" ? null : long.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), count.Rows);
    }

    [Fact]
    public async Task Parameters_other_than_an_empty_object_are_refused()
    {
        var outcome = await new RowCountNodeAnalysis().RunAsync("{\"dataset\":\"x\"}", _nodes.Directory(("a.csv", "a\n1\n")), Policy(5), TestContext.Current.CancellationToken);

        Assert.Equal(FederationAnalysisCodes.InvalidParameters, outcome.Refusal?.Code);
    }

    public void Dispose() => _nodes.Dispose();

    private static NodePolicy Policy(int threshold) => NodePolicy.Default with { Disclosure = DisclosurePolicy.Default with { Threshold = threshold } };
}
