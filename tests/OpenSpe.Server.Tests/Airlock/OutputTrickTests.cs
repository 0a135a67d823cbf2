using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>One sandboxed project for the trick tests (they write different names, so they share it).</summary>
public sealed class AirlockTrickFixture : IAsyncLifetime
{
    internal AirlockSandbox World { get; private set; } = null!;

    public async ValueTask InitializeAsync() => World = await AirlockSandbox.StartAsync(new Dictionary<string, string?> { ["Airlock:MaxFileBytes"] = "1048576" });

    public async ValueTask DisposeAsync() => await World.DisposeAsync();
}

/// <summary>
/// What a researcher can plant in /outputs from inside the sandbox to make the server read something else (SDR-1, SPER-4):
/// each trick is made by a real sandbox job, and the export is refused with 422 and nothing is stored.
/// </summary>
public sealed class OutputTrickTests(AirlockTrickFixture fixture) : IClassFixture<AirlockTrickFixture>
{
    private AirlockSandbox W => fixture.World;

    public static TheoryData<string, string, string> Tricks() => new()
    {
        { "shadow.csv", "ln -s /etc/shadow /outputs/shadow.csv", "SymbolicLink" },
        { "key.txt", "ln -s {data}/master.key /outputs/key.txt", "SymbolicLink" },
        { "other.csv", "ln -s {root}/projects/other-project/outputs/t.csv /outputs/other.csv", "SymbolicLink" },
        { "pipe.csv", "mkfifo /outputs/pipe.csv", "NotRegularFile" },
        { "dir.csv", "mkdir -p /outputs/dir.csv", "NotRegularFile" },
        { "linked.csv", "echo 'a,b' > /outputs/original.txt && ln /outputs/original.txt /outputs/linked.csv", "Foreign" },
        { "big.csv", "head -c 2000000 /dev/zero | tr '\\0' 'a' > /outputs/big.csv", "TooLarge" },
        { "missing.csv", "true", "NotFound" },
    };

    [Theory]
    [MemberData(nameof(Tricks))]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "SPER-4")]
    public async Task A_planted_output_is_refused_and_nothing_is_stored(string name, string script, string error)
    {
        var data = W.F.Server.Services.GetRequiredService<DataDirectory>().Path;
        await W.RunAsync(script.Replace("{data}", data, StringComparison.Ordinal).Replace("{root}", W.Root, StringComparison.Ordinal));

        var response = await W.RequestAsync(W.Researcher, new { files = new[] { name }, reason = "trick" });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(ErrorCodes.AirlockFileRefused, problem.GetProperty("code").GetString());
        var records = await W.F.Server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditService>().QueryAsync(new OpenSpe.Server.Audit.AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "export.refused" && r.DetailsJson.Contains(name, StringComparison.Ordinal) && r.DetailsJson.Contains(error, StringComparison.Ordinal));
        Assert.DoesNotContain(JsonDocument.Parse(await W.Researcher.GetStringAsync(W.Exports, TestContext.Current.CancellationToken)).RootElement.EnumerateArray(),
            r => r.GetProperty("files").EnumerateArray().Any(f => f.GetProperty("name").GetString() == name));
    }

    [Theory]
    [InlineData("etc/passwd", "ln -sfn /etc /outputs/etc", ProjectFileError.SymbolicLink)]
    [InlineData("sub/../../project/x", "true", ProjectFileError.InvalidName)]
    [InlineData("/etc/passwd", "true", ProjectFileError.InvalidName)]
    [InlineData("sub/t.csv", "mkdir -p /outputs/sub && echo a > /outputs/sub/t.csv", null)]
    [Trait("Requirement", "SDR-1")]
    public async Task Nested_names_are_walked_without_following_a_symlinked_directory(string name, string script, ProjectFileError? error)
    {
        await W.RunAsync(script);
        var files = W.F.Server.Services.GetRequiredService<IProjectFiles>();
        using var sink = new MemoryStream();

        var copy = Record.ExceptionAsync(() => files.CopyOutputAsync(W.ProjectId, name, sink, 1 << 20, TestContext.Current.CancellationToken));

        var thrown = await copy;
        Assert.Equal(error, (thrown as ProjectFileException)?.Error);
        if (error is not null)
        {
            Assert.Equal(0, sink.Length);
        }
    }
}
