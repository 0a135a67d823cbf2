using System.Text;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// The bypass an outside review found against the running server, replayed through the real pipeline (EHDSR-12, SPER-4):
/// a sandbox job copies a row-level cohort to /outputs under names described as text, regression and figure, and hides CSV
/// rows with a HETU and an e-mail address after a PNG's IEND; none of them may be checked <c>pass</c>.
/// </summary>
public sealed class MisdescribedOutputTests : IAsyncLifetime
{
    private const string Hetu = "131052-308T";
    private AirlockSandbox _w = null!;

    public async ValueTask InitializeAsync() => _w = await AirlockSandbox.StartAsync();

    public async ValueTask DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-12")]
    [Trait("Requirement", "SPER-4")]
    public async Task Row_level_data_described_as_text_regression_or_figure_and_data_after_an_image_end_are_never_checked_pass()
    {
        var png = (byte[])[.. TestImages.Png, .. Encoding.UTF8.GetBytes($"\nperson_id,hetu,email\n100001,{Hetu},anna.virtanen@example.fi\n100002,,\n")];
        await _w.RunAsync(
            "{ echo person_id,birth_year,sex; i=1; while [ $i -le 2163 ]; do echo \"$((100000 + i)),$((1930 + i % 80)),F\"; i=$((i + 1)); done; } > /outputs/micro.csv"
            + " && cp /outputs/micro.csv /outputs/micro2.csv && cp /outputs/micro.csv /outputs/micro3.csv"
            + " && printf 'sex,n\\nF,12\\nM,15\\n' > /outputs/t1.csv && " + TestImages.Write("fig1.png", png));
        var description = new
        {
            outputs = new object[]
            {
                new { file = "micro.csv", kind = "text" },
                new { file = "micro2.csv", kind = "regression", observations = 2163, parameters = 3 },
                new { file = "micro3.csv", kind = "figure", basedOn = "micro2.csv" },
                new { file = "t1.csv", kind = "frequency", labelColumns = new[] { "sex" } },
                new { file = "fig1.png", kind = "figure", basedOn = "t1.csv" },
            },
        };

        var request = await _w.RequestOkAsync(new { files = new[] { "micro.csv", "micro2.csv", "micro3.csv", "t1.csv", "fig1.png" }, reason = "test", description });

        var files = request.Files.ToDictionary(f => f.Name);
        string[] Rules(string name) => [.. files[name].Findings.EnumerateArray().Select(f => f.GetProperty("rule").GetString()!)];
        Assert.Equal("review", files["micro.csv"].CheckStatus);
        Assert.Equal(["description.table"], Rules("micro.csv"));
        Assert.Equal("review", files["micro2.csv"].CheckStatus);
        Assert.Equal(["regression.rows"], Rules("micro2.csv"));
        Assert.Equal("review", files["micro3.csv"].CheckStatus);
        Assert.Contains("description.table", Rules("micro3.csv"));
        Assert.Equal("pass", files["t1.csv"].CheckStatus);
        Assert.Equal("fail", files["fig1.png"].CheckStatus);
        Assert.Equal(["image.trailing-data", "identifier.fi-hetu", "identifier.email"], Rules("fig1.png"));
        Assert.Equal("fail", request.CheckStatus);

        // Note: the report leaves the SPE, so it names where the identifiers are and never what they are.
        Assert.DoesNotContain(Hetu, files["fig1.png"].Findings.GetRawText(), StringComparison.Ordinal);
    }
}
