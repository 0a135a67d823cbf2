using System.Text.Json;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Cli.Tests.UploadCli;

/// <summary>
/// <c>spe audit verify --server</c> and <c>spe audit export --server</c>: the auditor on their own machine, over the API with the
/// signed-in session, against the real server (HTTPS on loopback, pinned); every other role refused with the server's message.
/// </summary>
public sealed class AuditServerModeCliTests : IAsyncLifetime
{
    private PermitFixture _fixture = null!;

    public async ValueTask InitializeAsync() => _fixture = await PermitFixture.StartAsync();

    public async ValueTask DisposeAsync() => await _fixture.DisposeAsync();

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Auditor_verifies_the_log_over_the_api_as_a_table_or_the_servers_json()
    {
        await using var harness = await HarnessAsync("auditor");

        var (code, stdout, stderr) = await harness.RunAsync("audit", "verify", "--server");
        var (jsonCode, json, _) = await harness.RunAsync("audit", "verify", "--server", _fixture.Server.BaseAddress.ToString(), "--json");

        Assert.True(code == 0, stderr);
        Assert.Matches("(?m)^Result +VALID$", stdout);
        Assert.Matches("(?m)^Records checked +[1-9][0-9]*$", stdout);
        Assert.Equal(0, jsonCode);
        Assert.True(JsonDocument.Parse(json).RootElement.GetProperty("valid").GetBoolean());
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Auditor_exports_over_the_api_to_a_file_or_stdout_filtered_by_time()
    {
        await using var harness = await HarnessAsync("auditor");
        using var files = new TempDirectory();
        var file = files.File("audit.jsonl");

        var (code, _, stderr) = await harness.RunAsync("audit", "export", "--server", "--since", "2000-01-01", "-o", file);
        var (csvCode, csv, _) = await harness.RunAsync("audit", "export", "--server", "--format", "csv", "--until", "2099-01-01T00:00:00+02:00");
        var (noneCode, none, _) = await harness.RunAsync("audit", "export", "--server", "--until", "2000-01-01");

        Assert.True(code == 0, stderr);
        var lines = File.ReadAllLines(file);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.True(JsonDocument.Parse(l).RootElement.GetProperty("sequence").GetInt64() > 0));
        Assert.False(File.Exists(file + ".partial"));
        Assert.Equal(0, csvCode);
        Assert.StartsWith("sequence,", csv, StringComparison.Ordinal);
        Assert.True(csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 1);
        Assert.Equal((0, ""), (noneCode, none));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task Auditor_exports_over_the_api_filtered_by_actor_action_and_project()
    {
        var project = "prj-cli-" + Guid.NewGuid().ToString("N")[..8];
        using (var researcher = await _fixture.Server.ClientForAccountAsync("researcher"))
        {
            using var first = await researcher.GetAsync(new Uri($"/api/v1/projects/{project}/exports", UriKind.Relative));
            using var second = await researcher.GetAsync(new Uri($"/api/v1/projects/{project}/imports", UriKind.Relative));
        }

        await using var harness = await HarnessAsync("auditor");
        using var files = new TempDirectory();
        var file = files.File("audit.jsonl");

        var (code, _, stderr) = await harness.RunAsync("audit", "export", "--server", "--project", project, "--actor", "researcher", "-o", file);
        var lines = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var action = lines[0].GetProperty("action").GetString()!;
        var (oneCode, one, _) = await harness.RunAsync("audit", "export", "--server", "--project", project, "--action", action);
        var (noneCode, none, _) = await harness.RunAsync("audit", "export", "--server", "--project", project, "--actor", "auditor");

        Assert.True(code == 0, stderr);
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(project, l.GetProperty("resource").GetProperty("projectId").GetString()));
        Assert.All(lines, l => Assert.Equal("researcher", l.GetProperty("actor").GetProperty("username").GetString()));
        Assert.Equal(0, oneCode);
        Assert.Equal(action, JsonDocument.Parse(Assert.Single(one.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement.GetProperty("action").GetString());
        Assert.Equal((0, ""), (noneCode, none));
    }

    [Theory]
    [InlineData("--actor", "")]
    [InlineData("--project", " ")]
    [InlineData("--action", "x")]
    [Trait("Requirement", "EHDSR-6")]
    public async Task A_blank_or_too_long_filter_exits_2_before_any_request(string option, string value)
    {
        await using var harness = await HarnessAsync("auditor");
        // Note: "x" stands for a value one character longer than the server takes, made here (attribute arguments are constants).
        var given = value == "x" ? new string('x', 201) : value;

        var (code, stdout, stderr) = await harness.RunAsync("audit", "export", "--server", option, given);

        Assert.Equal((2, ""), (code, stdout));
        Assert.Contains(value == "x" ? $"{option} must be at most 200 characters" : $"{option} must not be blank", stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    public async Task An_export_cut_by_the_server_midway_exits_1_and_leaves_no_file_that_looks_complete()
    {
        await using var harness = await HarnessAsync("auditor");
        using var files = new TempDirectory();
        var file = files.File("audit.jsonl");

        int code, pipedCode;
        string stdout, stderr, piped, pipedErr;
        await using (await OpenSpe.Server.Tests.Audit.UnreadableAuditRecord.PlantAsync(_fixture.Server))
        {
            (code, stdout, stderr) = await harness.RunAsync("audit", "export", "--server", "-o", file);
            (pipedCode, piped, pipedErr) = await harness.RunAsync("audit", "export", "--server");
        }

        Assert.True(code == 1, $"exit {code}: {stderr}");
        Assert.Equal("", stdout);
        Assert.StartsWith("spe: ", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(files.Path));
        // Note: on standard output the bytes that came are written as they come; the exit code and the message say it broke.
        Assert.True(pipedCode == 1, $"exit {pipedCode}: {pipedErr}");
        Assert.NotEmpty(piped);
        Assert.StartsWith("spe: ", pipedErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("operator")]
    [InlineData("hdab")]
    [InlineData("admin")]
    public async Task Other_roles_are_refused_with_the_servers_message_and_nothing_is_written(string account)
    {
        await using var harness = await HarnessAsync(account);
        using var files = new TempDirectory();
        var file = files.File("audit.jsonl");

        var (verifyCode, verifyOut, verifyErr) = await harness.RunAsync("audit", "verify", "--server");
        var (exportCode, exportOut, exportErr) = await harness.RunAsync("audit", "export", "--server", "-o", file, "--actor", account, "--action", "audit.export");

        Assert.Equal((1, 1), (verifyCode, exportCode));
        Assert.Equal(("", ""), (verifyOut, exportOut));
        Assert.Matches(@"^spe: .+ \(SPE\d{4}, trace [0-9a-f]{32}\)\n$", verifyErr);
        Assert.Matches(@"^spe: .+ \(SPE\d{4}, trace [0-9a-f]{32}\)\n$", exportErr);
        Assert.Empty(Directory.GetFiles(files.Path));
    }

    [Theory]
    [InlineData("--since", "yesterday-ish")]
    [InlineData("--since", "2026-12-01T10:00:00")]
    [InlineData("--until", "1.12.2026")]
    public async Task A_malformed_time_exits_2_before_any_request(string option, string value)
    {
        await using var harness = await HarnessAsync("auditor");

        var (code, stdout, stderr) = await harness.RunAsync("audit", "export", "--server", option, value);

        Assert.Equal((2, ""), (code, stdout));
        Assert.Contains($"{option} '{value}' is not a time: use an ISO 8601 time with an offset", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("audit", "verify", "--server", "--data-dir", "/tmp/x")]
    [InlineData("audit", "verify", "--server", "--witness", "w.jsonl")]
    [InlineData("audit", "export", "--server", "--database", "Host=x")]
    [InlineData("audit", "export", "--server", "https://elsewhere.example:8443")]
    [InlineData("audit", "export", "--server", "--since", "2026-12-02", "--until", "2026-12-01")]
    public async Task Server_mode_with_offline_options_another_server_or_an_empty_range_exits_2(params string[] args)
    {
        await using var harness = await HarnessAsync("auditor");

        var (code, stdout, stderr) = await harness.RunAsync(args);

        Assert.Equal((2, ""), (code, stdout));
        Assert.StartsWith("spe: ", stderr, StringComparison.Ordinal);
        Assert.Contains($"Run 'spe {args[0]} {args[1]} --help' for usage.", stderr, StringComparison.Ordinal);
    }

    private async Task<UploadHarness> HarnessAsync(string account) =>
        UploadHarness.ForServer(_fixture.Server, await _fixture.Server.TokenForAccountAsync(account));
}
