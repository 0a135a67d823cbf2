using System.Text.Json;

namespace OpenSpe.Disclosure.Tests;

[Trait("Requirement", "EHDSR-13")]
public sealed class ReportJsonTests
{
    [Fact]
    public void Json_HasExactlyTheIssueShape()
    {
        var report = new DisclosureReport([
            new FileReport("t1.csv", [new Finding("frequency.threshold", "1 cell below 10.", ["row 1, column yes"], DisclosureStatus.Fail)]),
            new FileReport("notes.md", []),
        ]);

        using var json = JsonDocument.Parse(DisclosureReportJson.Write(report));

        var root = json.RootElement;
        Assert.Equal(["status", "files"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("fail", root.GetProperty("status").GetString());
        var file = root.GetProperty("files")[0];
        Assert.Equal(["file", "status", "findings"], file.EnumerateObject().Select(p => p.Name));
        Assert.Equal("fail", file.GetProperty("status").GetString());
        var finding = file.GetProperty("findings")[0];
        Assert.Equal(["rule", "reason", "positions"], finding.EnumerateObject().Select(p => p.Name));
        Assert.Equal("row 1, column yes", finding.GetProperty("positions")[0].GetString());
        Assert.Equal("pass", root.GetProperty("files")[1].GetProperty("status").GetString());
    }

    [Fact]
    public void Status_IsTheWorstOfTheFiles()
    {
        var review = new FileReport("a", [new Finding("x", "y", [], DisclosureStatus.Review)]);
        var pass = new FileReport("b", []);

        Assert.Equal(DisclosureStatus.Review, new DisclosureReport([pass, review]).Status);
        Assert.Equal(DisclosureStatus.Pass, new DisclosureReport([pass]).Status);
        Assert.Equal(DisclosureStatus.Review, new DisclosureReport([]).Status);
    }
}
