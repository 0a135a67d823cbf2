using System.CommandLine;
using System.Text.Json;
using OpenSpe.Cli.Commands;

namespace OpenSpe.Cli.Tests.AirlockCli;

/// <summary><c>spe airlock check|describe</c> run in-process: exit codes follow the report, the JSON has the stable shape.</summary>
[Trait("Requirement", "EHDSR-12")]
[Trait("Requirement", "EHDSR-13")]
public sealed class AirlockCliTests : IDisposable
{
    private readonly string _dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "spe-airlock-" + Guid.NewGuid().ToString("N"));

    public AirlockCliTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path("ok.csv"), "sex,n\nF,12\nM,15\n");
        File.WriteAllText(Path("small.csv"), "sex,n\nF,3\nM,15\n");
        File.WriteAllText(Path("meta.json"), """
            {"outputs": [{"file": "ok.csv", "kind": "frequency", "labelColumns": ["sex"]},
                         {"file": "small.csv", "kind": "frequency", "labelColumns": ["sex"]}]}
            """);
    }

    [Fact]
    public async Task Check_AllPass_Exits0()
    {
        var (code, stdout, _) = await Run("airlock", "check", Path("ok.csv"), "--meta", Path("meta.json"));

        Assert.Equal(0, code);
        Assert.Contains("Overall: pass", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_AnyFail_Exits1()
    {
        var (code, _, _) = await Run("airlock", "check", Path("ok.csv"), Path("small.csv"), "--meta", Path("meta.json"));

        Assert.Equal(1, code);
    }

    [Fact]
    public async Task Check_UndescribedFile_Exits3()
    {
        var (code, _, _) = await Run("airlock", "check", Path("ok.csv"));

        Assert.Equal(3, code);
    }

    [Fact]
    public async Task Check_PolicyChangesTheOutcome()
    {
        File.WriteAllText(Path("policy.json"), """{"threshold": 3}""");

        var (code, _, _) = await Run("airlock", "check", Path("small.csv"), "--meta", Path("meta.json"), "--policy", Path("policy.json"));

        Assert.Equal(0, code);
    }

    [Fact]
    public async Task Check_Json_HasTheStableShape()
    {
        var (code, stdout, _) = await Run("airlock", "check", Path("small.csv"), "--meta", Path("meta.json"), "--json");

        Assert.Equal(1, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("fail", json.RootElement.GetProperty("status").GetString());
        var file = json.RootElement.GetProperty("files")[0];
        Assert.Equal("small.csv", file.GetProperty("file").GetString());
        var finding = file.GetProperty("findings")[0];
        Assert.Equal("frequency.threshold", finding.GetProperty("rule").GetString());
        Assert.Equal("row 1, column n", finding.GetProperty("positions")[0].GetString());
    }

    [Theory]
    [InlineData("""{"outputs": [{"file": "ok.csv", "kind": "frequency", "labels": ["sex"]}]}""", "unknown field 'labels'")]
    [InlineData("""not json""", "not valid JSON")]
    public async Task Check_InvalidDescription_Exits2WithTheField(string meta, string message)
    {
        File.WriteAllText(Path("bad.json"), meta);

        var (code, _, stderr) = await Run("airlock", "check", Path("ok.csv"), "--meta", Path("bad.json"));

        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_MissingFile_Exits2()
    {
        var (code, _, stderr) = await Run("airlock", "check", Path("nothing.csv"));

        Assert.Equal(2, code);
        Assert.Contains("no such file", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_WritesADescriptionThatCheckAccepts()
    {
        var (code, stdout, _) = await Run("airlock", "describe", Path("ok.csv"));
        File.WriteAllText(Path("drafted.json"), stdout);
        var (checkCode, _, _) = await Run("airlock", "check", Path("ok.csv"), "--meta", Path("drafted.json"));

        Assert.Equal(0, code);
        Assert.Equal(0, checkCode);
    }

    private string Path(string name) => System.IO.Path.Combine(_dir, name);

    private static async Task<(int Code, string Stdout, string Stderr)> Run(params string[] args)
    {
        var root = new RootCommand("spe (airlock verbs under test)") { AirlockCommands.Create() };
        var parse = root.Parse(args);
        Assert.Empty(parse.Errors);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, TestContext.Current.CancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
