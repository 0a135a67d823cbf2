using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Cli.Tests.UploadCli;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Workspaces;
using OpenSpe.Workspaces;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// <c>spe job run|list|logs|cancel</c> against a real server (FCR-3, SPER-1): run streams the job's standard output and
/// error to its own and exits with the job's exit code. The server's sandbox is the test-only unisolated runtime.
/// </summary>
public sealed class JobCliTests : IAsyncLifetime
{
    private readonly UnisolatedTestRuntime _runtime = new();
    private PermitFixture _f = null!;
    private string _projectId = "";
    private UploadHarness _researcher = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(services: services =>
        {
            services.AddSingleton<IWorkspaceRuntime>(_runtime);
            services.AddSingleton<IPlaintextStaging>(_runtime);
        });
        (_, _projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));
        _researcher = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("researcher"));
    }

    public async ValueTask DisposeAsync()
    {
        await _researcher.DisposeAsync();
        await _f.DisposeAsync();
        _runtime.Dispose();
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "SPER-1")]
    public async Task Run_streams_the_jobs_output_and_exits_with_its_exit_code()
    {
        var (code, stdout, stderr) = await _researcher.RunAsync("job", "run", "--project", _projectId, "--", "sh", "-c", "echo result; echo warning >&2; exit 7");

        Assert.Equal(7, code);
        Assert.Equal("result\n", stdout);
        Assert.Contains("warning\n", stderr, StringComparison.Ordinal);
        Assert.Contains("following its output", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_spe_executable_exits_with_the_jobs_exit_code()
    {
        var (code, stdout, _) = await _researcher.RunSpeAsync("job", "run", "--project", _projectId, "--", "sh", "-c", "echo from-the-job; exit 3");

        Assert.Equal(3, code);
        Assert.Equal("from-the-job\n", stdout);
    }

    [Fact]
    public async Task List_logs_and_cancel_a_running_job()
    {
        var (detached, id, _) = await _researcher.RunAsync("job", "run", "--project", _projectId, "--detach", "--", "sh", "-c", "echo started; exec sleep 60");
        id = id.Trim();
        await _runtime.NextStartAsync();

        var list = await _researcher.RunAsync("job", "list", "--project", _projectId, "--json");
        var cancel = await _researcher.RunAsync("job", "cancel", "--project", _projectId, id);
        var logs = await _researcher.RunAsync("job", "logs", "--project", _projectId, id, "--follow");
        var again = await _researcher.RunAsync("job", "cancel", "--project", _projectId, id);
        var table = await _researcher.RunAsync("job", "list", "--project", _projectId);

        Assert.Equal(0, detached);
        Assert.StartsWith("job-", id, StringComparison.Ordinal);
        Assert.Equal(0, list.Code);
        Assert.Equal(id, JsonDocument.Parse(list.Stdout).RootElement[0].GetProperty("id").GetString());
        Assert.Equal((0, $"Job {id} is cancelled (exit code 137).\n"), (cancel.Code, cancel.Stdout));
        Assert.Equal((0, "started\n"), (logs.Code, logs.Stdout));
        Assert.Equal(1, again.Code);
        Assert.Contains("has ended already (cancelled)", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("(SPE6006, trace ", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("cancelled (requested)", table.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_and_usage_errors_say_why_and_start_nothing()
    {
        await using var holder = UploadHarness.ForServer(_f.Server, await _f.Server.TokenForAccountAsync("holder"));

        var refused = await holder.RunAsync("job", "run", "--project", _projectId, "--", "true");
        var nothing = await _researcher.RunAsync("job", "run", "--project", _projectId);
        var empty = await _researcher.RunAsync("job", "list", "--project", _projectId);

        Assert.Equal(1, refused.Code);
        Assert.Contains("(SPE1006, trace ", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, nothing.Code);
        Assert.Contains("give the command to run after '--'", nothing.Stderr, StringComparison.Ordinal);
        Assert.Equal((0, "No jobs in this project yet ('spe job run' starts one).\n"), (empty.Code, empty.Stdout));
        Assert.Equal(0, _runtime.StartCount);
    }
}
