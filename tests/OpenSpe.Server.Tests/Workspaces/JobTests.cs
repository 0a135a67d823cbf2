using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Workspaces;

/// <summary>
/// Code-to-data jobs through the real HTTP pipeline and access chain (FCR-3, SPER-1): output and exit code, following,
/// queue and cancel, every refusal, and stops by halt, permit end and lost access (OPR-5, OPR-20). The sandbox here is the
/// test-only <see cref="UnisolatedTestRuntime"/> (no isolation, nothing reads /data); <c>SandboxJobTests</c> runs jobs in
/// the real sandbox.
/// </summary>
public abstract class JobTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = PermitFixture.Start;
    private readonly UnisolatedTestRuntime _runtime = new();
    private PermitFixture _f = null!;
    private string _permitId = "";
    private string _projectId = "";
    private HttpClient _researcher = null!;

    protected abstract TestBackend Backend { get; }

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Jobs:MaxRunningPerProject"] = "1",
            ["Jobs:MaxQueuedPerProject"] = "1",
            ["Jobs:AccessCheckInterval"] = "00:00:00.100",
        }, Backend, services =>
        {
            services.AddSingleton<IWorkspaceRuntime>(_runtime);
            services.AddSingleton<IPlaintextStaging>(_runtime);
        });
        (_permitId, _projectId) = await _f.IssueAsync(Document());
        _researcher = await _f.Server.ClientForAccountAsync("researcher");
    }

    public async ValueTask DisposeAsync()
    {
        _researcher.Dispose();
        await _f.DisposeAsync();
        _runtime.Dispose();
        GC.SuppressFinalize(this);
    }

    private static Dictionary<string, object?> Document(string[]? kinds = null, string[]? users = null)
    {
        var document = PermitFixture.Document(Start.AddDays(-1), Start.AddDays(30), users: users ?? []);
        document["policies"] = new
        {
            workspaceKinds = kinds ?? ["job", "desktop"],
            approvedComponents = new[] { new { name = "cohort-count", version = "1.0.0", sha256 = new string('a', 64) } },
        };
        return document;
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "SPER-1")]
    public async Task A_job_runs_and_its_output_and_exit_code_come_back()
    {
        var response = await JobsApi.RunAsync(_researcher, _projectId, new { command = new[] { "sh", "-c", "echo out; echo err >&2; exit 3" } });
        var accepted = await response.Content.ReadFromJsonAsync<JobView>(JsonSerializerOptions.Web);

        var log = await JobsApi.LogAsync(_researcher, _projectId, accepted!.Id);
        var job = await JobsApi.ShowAsync(_researcher, _projectId, accepted.Id);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/api/v1/projects/{_projectId}/jobs/{accepted.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal("out\n", JobsApi.Text(log, JobLogStreams.StandardOutput));
        Assert.Equal("err\n", JobsApi.Text(log, JobLogStreams.StandardError));
        Assert.Equal(new JobLogEntry(JobLogStreams.End, State: JobStates.Failed, ExitCode: 3), log[^1]);
        Assert.Equal((JobStates.Failed, 3, "researcher"), (job.State, job.ExitCode, job.SubmittedBy));
        Assert.NotNull(job.StartedAt);
        Assert.NotNull(job.EndedAt);
        Assert.Equal(["sh", "-c", "echo out; echo err >&2; exit 3"], job.Command);
        var records = await RecordsAsync();
        Assert.Contains(records, r => r.Action == "job.submitted" && r.ResourceId == job.Id && r.ProjectId == _projectId && r.DetailsJson.Contains("\"command\":\"sh\"", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Action == "job.started" && r.ResourceId == job.Id);
        Assert.Contains(records, r => r.Action == "job.ended" && r.ResourceId == job.Id && r.DetailsJson.Contains("\"exitCode\":\"3\"", StringComparison.Ordinal));
        // Note: the output is project data: it is in no audit record.
        Assert.DoesNotContain(records, r => r.DetailsJson.Contains("out\\n", StringComparison.Ordinal) || r.DetailsJson.Contains("echo", StringComparison.Ordinal));
        // It is kept in the project's space, owner-only.
        var file = Path.Combine(_f.Server.DataDirectory, "data", "projects", _projectId, "jobs", job.Id, "log.ndjson");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    [Trait("Requirement", "SPER-5")]
    public async Task Following_a_log_streams_output_while_the_job_runs_and_another_data_user_sees_it()
    {
        var gate = Path.Combine(Path.GetTempPath(), "spe-gate-" + Guid.NewGuid().ToString("N"));
        var id = await JobsApi.StartAsync(_researcher, _projectId, "sh", "-c", $"echo first; while [ ! -e {gate} ]; do sleep 0.02; done; echo second");
        using var colleague = await _f.Server.ClientForAccountAsync("researcher2");
        using var response = await colleague.GetAsync($"/api/v1/projects/{_projectId}/jobs/{id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));

        var first = await reader.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await File.WriteAllTextAsync(gate, "", TestContext.Current.CancellationToken);
        var rest = await reader.ReadToEndAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30));
        File.Delete(gate);

        Assert.Equal(JobLogStreams.MediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(new JobLogEntry(JobLogStreams.StandardOutput, "first\n"), JsonSerializer.Deserialize<JobLogEntry>(first!, JsonSerializerOptions.Web));
        var lines = rest.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonSerializer.Deserialize<JobLogEntry>(l, JsonSerializerOptions.Web)!).ToList();
        Assert.Equal([new JobLogEntry(JobLogStreams.StandardOutput, "second\n"), new JobLogEntry(JobLogStreams.End, State: JobStates.Succeeded, ExitCode: 0)], lines);
        var listed = await colleague.GetFromJsonAsync<List<JobView>>($"/api/v1/projects/{_projectId}/jobs", JsonSerializerOptions.Web, TestContext.Current.CancellationToken);
        Assert.Equal([id], listed!.Select(j => j.Id));
    }

    [Fact]
    public async Task Cancel_kills_a_running_job_and_is_audited()
    {
        var id = await JobsApi.StartAsync(_researcher, _projectId, "sleep", "60");
        await _runtime.NextStartAsync();

        var cancel = await _researcher.PostAsync($"/api/v1/projects/{_projectId}/jobs/{id}/cancel", null, TestContext.Current.CancellationToken);
        var job = await cancel.Content.ReadFromJsonAsync<JobView>(JsonSerializerOptions.Web, TestContext.Current.CancellationToken);
        var again = await _researcher.PostAsync($"/api/v1/projects/{_projectId}/jobs/{id}/cancel", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal((JobStates.Cancelled, "requested"), (job!.State, job.EndReason));
        Assert.Equal(128 + 9, job.ExitCode);
        await AssertProblemAsync(again, HttpStatusCode.Conflict, ErrorCodes.JobEnded);
        var records = await RecordsAsync();
        Assert.Contains(records, r => r.Action == "job.cancel-requested" && r.ResourceId == id && r.ActorUsername == "researcher");
        Assert.Contains(records, r => r.Action == "job.cancelled" && r.ResourceId == id);
    }

    [Fact]
    public async Task The_queue_is_limited_per_project_and_a_queued_job_is_cancelled_without_running()
    {
        var running = await JobsApi.StartAsync(_researcher, _projectId, "sleep", "60");
        await _runtime.NextStartAsync();
        var queued = await JobsApi.StartAsync(_researcher, _projectId, "true");

        var refused = await JobsApi.RunAsync(_researcher, _projectId, new { command = new[] { "true" } });
        var queuedView = await JobsApi.ShowAsync(_researcher, _projectId, queued);
        var cancelQueued = await _researcher.PostAsync($"/api/v1/projects/{_projectId}/jobs/{queued}/cancel", null, TestContext.Current.CancellationToken);
        var cancelled = await cancelQueued.Content.ReadFromJsonAsync<JobView>(JsonSerializerOptions.Web, TestContext.Current.CancellationToken);
        await _researcher.PostAsync($"/api/v1/projects/{_projectId}/jobs/{running}/cancel", null, TestContext.Current.CancellationToken);

        await AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, ErrorCodes.JobQueueFull);
        Assert.Equal(JobStates.Queued, queuedView.State);
        Assert.Equal((JobStates.Cancelled, (int?)null, (DateTimeOffset?)null), (cancelled!.State, cancelled.ExitCode, cancelled.StartedAt));
        Assert.Equal(1, _runtime.StartCount);
        Assert.Equal(2, await JobRowsAsync());
    }

    [Theory]
    [InlineData("researcher3", HttpStatusCode.NotFound)]
    [InlineData("holder", HttpStatusCode.Forbidden)]
    [InlineData("operator", HttpStatusCode.NotFound)]
    [InlineData("hdab", HttpStatusCode.NotFound)]
    [InlineData("auditor", HttpStatusCode.NotFound)]
    [Trait("Requirement", "SDR-2")]
    public async Task Only_the_permits_data_users_run_or_read_jobs(string username, HttpStatusCode expected)
    {
        var existing = await JobsApi.StartAsync(_researcher, _projectId, "true");
        await JobsApi.LogAsync(_researcher, _projectId, existing);
        if (username == "researcher3")
        {
            await _f.Server.EnsureAccountAsync(username, "researcher");
        }

        using var client = await _f.Server.ClientForAccountAsync(username);

        var run = await JobsApi.RunAsync(client, _projectId, new { command = new[] { "true" } });
        var list = await client.GetAsync($"/api/v1/projects/{_projectId}/jobs", TestContext.Current.CancellationToken);
        var log = await client.GetAsync($"/api/v1/projects/{_projectId}/jobs/{existing}/logs", TestContext.Current.CancellationToken);
        var cancel = await client.PostAsync($"/api/v1/projects/{_projectId}/jobs/{existing}/cancel", null, TestContext.Current.CancellationToken);

        Assert.Equal([expected, expected, expected, expected], new[] { run.StatusCode, list.StatusCode, log.StatusCode, cancel.StatusCode });
        Assert.Equal("application/problem+json", run.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, _runtime.StartCount);
        Assert.Equal(1, await JobRowsAsync());
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"command":[]}""")]
    [InlineData("""{"command":[""]}""")]
    [InlineData("""{"command":["true"],"component":"cohort-count"}""")]
    [InlineData("""{"command":["true"],"args":["x"]}""")]
    [InlineData("""{"command":"true"}""")]
    [InlineData("""{"command":["true"],"shell":true}""")]
    [InlineData("""{"command":["a\u0000b"]}""")]
    [InlineData("""not json""")]
    public async Task Malformed_bodies_are_refused_and_start_nothing(string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var response = await _researcher.PostAsync($"/api/v1/projects/{_projectId}/jobs", content, TestContext.Current.CancellationToken);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, null);
        Assert.Equal(0, _runtime.StartCount);
        Assert.Equal(0, await JobRowsAsync());
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halted_project_starts_no_job()
    {
        Assert.Equal(HttpStatusCode.Created, (await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = _projectId, reason = "incident" })).StatusCode);

        var response = await JobsApi.RunAsync(_researcher, _projectId, new { command = new[] { "true" } });

        await AssertProblemAsync(response, HttpStatusCode.Locked, ErrorCodes.ProjectHalted);
        Assert.Equal(0, _runtime.StartCount);
        Assert.Equal(0, await JobRowsAsync());
    }

    [Theory]
    [InlineData("suspend")]
    [InlineData("revoke")]
    [Trait("Requirement", "OPR-5")]
    public async Task A_suspended_or_revoked_permit_starts_no_job(string change)
    {
        Assert.Equal(HttpStatusCode.OK, (await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/{change}", new { reason = "investigation" })).StatusCode);

        var response = await JobsApi.RunAsync(_researcher, _projectId, new { command = new[] { "true" } });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, ErrorCodes.PermitNotActive);
        Assert.Equal(0, _runtime.StartCount);
    }

    [Fact]
    [Trait("Requirement", "SPER-2")]
    public async Task A_permit_that_does_not_name_jobs_refuses_them()
    {
        var (_, project) = await _f.IssueAsync(Document(kinds: ["desktop"]).Also(d => d["reference"] = "HDAB-FI-2026-0043"));

        var response = await JobsApi.RunAsync(_researcher, project, new { command = new[] { "true" } });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, ErrorCodes.WorkspaceKindNotAllowed);
        Assert.Equal(0, _runtime.StartCount);
    }

    [Theory]
    [InlineData("not-approved")]
    [InlineData("../cohort-count")]
    [Trait("Requirement", "FCR-4")]
    public async Task A_component_the_permit_does_not_approve_is_refused(string name)
    {
        var response = await JobsApi.RunAsync(_researcher, _projectId, new { component = name, args = new[] { "x" } });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, ErrorCodes.ComponentNotApproved);
        Assert.Equal(0, _runtime.StartCount);
        Assert.Equal(0, await JobRowsAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [Trait("Requirement", "OPR-20")]
    public async Task A_halt_stops_a_running_job_and_its_plaintext_goes(bool wholeSpe)
    {
        var id = await JobsApi.StartAsync(_researcher, _projectId, "sleep", "60");
        await _runtime.NextStartAsync();
        Assert.True(_runtime.IsStaged(_projectId));

        Assert.Equal(HttpStatusCode.Created, (await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId = wholeSpe ? null : _projectId, reason = "incident" })).StatusCode);
        await EndOfAsync(id);

        var job = await JobViewAsync(id);
        Assert.Equal((JobStates.Stopped, "halted"), (job.State, job.EndReason));
        Assert.False(_runtime.IsStaged(_projectId));
    }

    [Theory]
    [InlineData("suspend")]
    [InlineData("revoke")]
    [Trait("Requirement", "OPR-5")]
    public async Task A_suspension_or_revocation_stops_running_jobs_and_their_plaintext_goes(string change)
    {
        var id = await JobsApi.StartAsync(_researcher, _projectId, "sleep", "60");
        await _runtime.NextStartAsync();

        Assert.Equal(HttpStatusCode.OK, (await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/{change}", new { reason = "investigation" })).StatusCode);
        await EndOfAsync(id);

        var job = await JobViewAsync(id);
        Assert.Equal((JobStates.Stopped, "permit-ended"), (job.State, job.EndReason));
        Assert.False(_runtime.IsStaged(_projectId));
    }

    [Fact]
    [Trait("Requirement", "OPR-5")]
    public async Task Expiry_stops_running_jobs_without_any_request()
    {
        var id = await JobsApi.StartAsync(_researcher, _projectId, "sleep", "60");
        await _runtime.NextStartAsync();

        _f.Clock.Advance(TimeSpan.FromDays(31));
        await EndOfAsync(id);

        var job = await JobViewAsync(id);
        Assert.Equal((JobStates.Stopped, "permit-ended"), (job.State, job.EndReason));
        Assert.False(_runtime.IsStaged(_projectId));
    }

    [Theory]
    [InlineData("removed")]
    [InlineData("disabled")]
    [InlineData("role-revoked")]
    [Trait("Requirement", "EHDSR-3")]
    public async Task A_member_who_loses_access_has_their_jobs_stopped_and_others_keep_running(string how)
    {
        using var colleague = await _f.Server.ClientForAccountAsync("researcher2");
        var theirs = await JobsApi.StartAsync(colleague, _projectId, "sleep", "60");
        await _runtime.NextStartAsync();
        var mine = await JobsApi.StartAsync(_researcher, _projectId, "sleep", "60");

        var change = how switch
        {
            "removed" => await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/amendments", Document(users: ["researcher"])),
            "disabled" => await _f.PostAsAsync("admin", "/api/v1/admin/users/researcher2/disable", new { }),
            _ => await DeleteAsAsync("admin", "/api/v1/admin/users/researcher2/roles/researcher"),
        };
        await EndOfAsync(theirs);
        // The queued job of the other member now gets the slot.
        await _runtime.NextStartAsync();

        Assert.True(change.IsSuccessStatusCode, await change.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var job = await JobViewAsync(theirs);
        Assert.Equal((JobStates.Stopped, "access-revoked"), (job.State, job.EndReason));
        Assert.Equal(JobStates.Running, (await JobViewAsync(mine)).State);
        Assert.True(_runtime.IsStaged(_projectId));
        await _researcher.PostAsync($"/api/v1/projects/{_projectId}/jobs/{mine}/cancel", null, TestContext.Current.CancellationToken);
    }

    private async Task<HttpResponseMessage> DeleteAsAsync(string username, string path)
    {
        using var client = await _f.Server.ClientForAccountAsync(username);
        return await client.DeleteAsync(path, TestContext.Current.CancellationToken);
    }

    /// <summary>Waits for the job's end to be recorded (the runner's own completion, awaited rather than polled).</summary>
    private async Task EndOfAsync(string jobId)
    {
        var run = _f.Server.Services.GetRequiredService<OpenSpe.Server.Workspaces.JobScheduler>().Find(jobId);
        if (run is not null)
        {
            await run.Ended.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
    }

    private async Task<JobView> JobViewAsync(string jobId)
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        var row = await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, TestContext.Current.CancellationToken);
        return OpenSpe.Server.Workspaces.JobEndpoints.ViewOf(row);
    }

    private async Task<int> JobRowsAsync()
    {
        await using var scope = _f.Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Jobs.CountAsync(TestContext.Current.CancellationToken);
    }

    private async Task<List<OpenSpe.Core.Audit.AuditRow>> RecordsAsync() =>
        await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? code)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (code is not null)
        {
            Assert.Equal(code, JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
        }
    }
}

public sealed class SqliteJobTests : JobTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresJobTests : JobTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}

internal static class DictionaryExtensions
{
    public static Dictionary<string, object?> Also(this Dictionary<string, object?> value, Action<Dictionary<string, object?>> change)
    {
        change(value);
        return value;
    }
}
