using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Workspaces;

/// <summary>
/// Jobs end to end in the real sandbox (bubblewrap, tmpfs staging; skipped only without bubblewrap and without
/// SPE_REQUIRE_ALL=1): a dataset uploaded through the real encrypted upload path is read at /data, read-only, by a
/// non-root job; an approved component runs only as the approved build (FCR-4); a halt kills a running job within one
/// second and its plaintext goes (OPR-20).
/// </summary>
public sealed class SandboxJobTests : IAsyncLifetime
{
    private static readonly byte[] Csv = Encoding.UTF8.GetBytes("id,age\n" + string.Join('\n', Enumerable.Range(0, 500).Select(i => $"{i},{20 + i % 60}")) + "\n");
    private static readonly byte[] Component = Encoding.UTF8.GetBytes("#!/bin/sh\necho \"counted $1 in $(wc -l < /data/omop-2026/cohort.csv) lines\"\n");
    private const long LogLimit = 64 * 1024;
    private static int instances;

    private readonly string _root = Path.Join(Path.GetTempPath(), "openspe-jobs-test-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _plaintext = Path.Join("/dev/shm", "openspe-jobs-test-" + Guid.NewGuid().ToString("N")[..12]);
    private PermitFixture _f = null!;
    private string _projectId = "";
    private string _permitId = "";
    private Dictionary<string, object?> _document = null!;
    private HttpClient _researcher = null!;

    public async ValueTask InitializeAsync()
    {
        _f = await PermitFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Workspaces:Runtime"] = "bubblewrap",
            ["Workspaces:Root"] = _root,
            ["Workspaces:PlaintextRoot"] = _plaintext,
            // Note: a uid range per server and process, so parallel tests never share a project uid.
            ["Workspaces:UidRangeStart"] = (600_000 + (Environment.ProcessId % 1000 * 100) + (Interlocked.Increment(ref instances) % 10 * 10)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Workspaces:UidRangeSize"] = "10",
            // Note: small, so the log-limit test fills it at once; the other tests print far less.
            ["Jobs:MaxLogBytes"] = LogLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var runtime = _f.Server.Services.GetRequiredService<IWorkspaceRuntime>();
        if (!runtime.Availability.IsAvailable)
        {
            Requirements.Missing("bubblewrap sandboxes unavailable: " + runtime.Availability.Reason + " (apt-get install bubblewrap)");
        }

        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30));
        document["policies"] = new
        {
            workspaceKinds = new[] { "job" },
            fileTypes = new { upload = new[] { "csv" } },
            approvedComponents = new[]
            {
                new { name = "cohort-count", version = "1.0.0", sha256 = TusClient.Sha256Hex(Component) },
                new { name = "cohort-count", version = "2.0.0", sha256 = new string('0', 64) },
            },
        };
        _document = document;
        (_permitId, _projectId) = await _f.IssueAsync(document);
        using (var holder = await _f.Server.ClientForAccountAsync("holder"))
        {
            var tus = new TusClient(holder, _projectId);
            await tus.UploadAsync(TusClient.Encrypt(Csv, await tus.ProjectKeyAsync()), "omop-2026", "cohort.csv", TusClient.Sha256Hex(Csv));
        }

        _researcher = await _f.Server.ClientForAccountAsync("researcher");
    }

    public async ValueTask DisposeAsync()
    {
        _researcher?.Dispose();
        await _f.DisposeAsync();
        foreach (var directory in new[] { _root, _plaintext })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    [Trait("Requirement", "SPER-1")]
    [Trait("Requirement", "SPER-6")]
    [Trait("Requirement", "SDR-4")]
    public async Task A_job_reads_the_uploaded_dataset_at_data_read_only_as_a_non_root_user()
    {
        var id = await JobsApi.StartAsync(_researcher, _projectId, "/bin/sh", "-c",
            "sha256sum /data/omop-2026/cohort.csv | cut -c1-64; id -u; touch /data/x 2>/dev/null && echo data-writable || echo data-read-only; "
            + "echo result > /outputs/r.txt && echo outputs-writable; pwd");

        var log = await JobsApi.LogAsync(_researcher, _projectId, id);

        var lines = JobsApi.Text(log, JobLogStreams.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 5, string.Join(" | ", log.Select(e => $"{e.Stream}: {e.Text}")));
        Assert.Equal(TusClient.Sha256Hex(Csv), lines[0]);
        Assert.NotEqual("0", lines[1]);
        Assert.Equal(["data-read-only", "outputs-writable", "/project"], lines[2..]);
        Assert.Equal(new JobLogEntry(JobLogStreams.End, State: JobStates.Succeeded, ExitCode: 0), log[^1]);
        // The lease ended with the job: no plaintext stays staged.
        Assert.False(_f.Server.Services.GetRequiredService<IPlaintextStaging>().IsStaged(_projectId));
    }

    [Fact]
    [Trait("Requirement", "SDR-1")]
    [Trait("Requirement", "SDR-4")]
    public async Task A_file_the_holder_deletes_is_gone_at_once_from_the_plaintext_a_running_job_holds()
    {
        var ct = TestContext.Current.CancellationToken;
        // Note: the job says when it sees the file, then waits (bounded) for it to go.
        var id = await JobsApi.StartAsync(_researcher, _projectId, "/bin/sh", "-c",
            "test -e /data/omop-2026/cohort.csv && echo present; i=0; while [ -e /data/omop-2026/cohort.csv ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
            + "test -e /data/omop-2026/cohort.csv && echo still-there || echo gone");
        using var log = await _researcher.GetAsync($"/api/v1/projects/{_projectId}/jobs/{id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead, ct);
        using var lines = new StreamReader(await log.Content.ReadAsStreamAsync(ct));
        var seen = new List<string>();
        while (await lines.ReadLineAsync(ct) is { } line && !line.Contains("present", StringComparison.Ordinal))
        {
            seen.Add(line);
        }

        using var holder = await _f.Server.ClientForAccountAsync("holder");
        var files = await holder.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{_projectId}/files", ct);
        var fileId = files.EnumerateArray().Single().GetProperty("id").GetString();
        using var deleted = await holder.DeleteAsync(new Uri($"/api/v1/projects/{_projectId}/datasets/omop-2026/files/{fileId}", UriKind.Relative), ct);
        var rest = await lines.ReadToEndAsync(ct);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.True(rest.Contains("\"gone", StringComparison.Ordinal) || rest.Contains("gone\\n", StringComparison.Ordinal), string.Join(" | ", seen) + " | " + rest);
        Assert.DoesNotContain("still-there", rest, StringComparison.Ordinal);
        Assert.False(_f.Server.Services.GetRequiredService<IPlaintextStaging>().IsStaged(_projectId));
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public async Task A_dataset_an_amendment_withdraws_is_gone_at_once_from_a_running_job_and_never_staged_for_a_later_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var withdrawn = Encoding.UTF8.GetBytes("id,secret\n1,WITHDRAWN-ROW\n");
        _document["datasets"] = new[] { new { id = "omop-2026", title = "OMOP CDM extract", holder = "holder" }, new { id = "extra", title = "Extra", holder = "holder" } };
        using (var added = await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/amendments", _document))
        {
            Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync(ct));
        }

        using (var holder = await _f.Server.ClientForAccountAsync("holder"))
        {
            var tus = new TusClient(holder, _projectId);
            await tus.UploadAsync(TusClient.Encrypt(withdrawn, await tus.ProjectKeyAsync()), "extra", "withdrawn.csv", TusClient.Sha256Hex(withdrawn));
        }

        // Note: the first job holds the staging through the amendment and until the second job has listed /data.
        var holding = await JobsApi.StartAsync(_researcher, _projectId, "/bin/sh", "-c",
            "test -e /data/extra/withdrawn.csv && echo present; i=0; while [ -e /data/extra/withdrawn.csv ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; "
            + "test -e /data/extra/withdrawn.csv && echo still-there || echo gone; i=0; while [ ! -e /project/later-done ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done");
        using var log = await _researcher.GetAsync($"/api/v1/projects/{_projectId}/jobs/{holding}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead, ct);
        using var lines = new StreamReader(await log.Content.ReadAsStreamAsync(ct));
        var seen = new List<string>();
        while (await lines.ReadLineAsync(ct) is { } line && !line.Contains("present", StringComparison.Ordinal))
        {
            seen.Add(line);
        }

        _document["datasets"] = new[] { new { id = "omop-2026", title = "OMOP CDM extract", holder = "holder" } };
        using var amended = await _f.PostAsAsync("hdab", $"/api/v1/permits/{_permitId}/amendments", _document);
        using var researcher2 = await _f.Server.ClientForAccountAsync("researcher2");
        var later = await JobsApi.StartAsync(researcher2, _projectId, "/bin/sh", "-c", "ls -R /data; cat /data/extra/withdrawn.csv 2>/dev/null; touch /project/later-done");
        var laterLog = JobsApi.Text(await JobsApi.LogAsync(researcher2, _projectId, later), JobLogStreams.StandardOutput);
        var rest = await lines.ReadToEndAsync(ct);

        Assert.True(amended.IsSuccessStatusCode, await amended.Content.ReadAsStringAsync(ct));
        Assert.True(rest.Contains("gone", StringComparison.Ordinal), string.Join(" | ", seen) + " | " + rest);
        Assert.DoesNotContain("still-there", rest, StringComparison.Ordinal);
        Assert.Contains("cohort.csv", laterLog, StringComparison.Ordinal);
        Assert.DoesNotContain("withdrawn", laterLog, StringComparison.Ordinal);
        Assert.DoesNotContain("WITHDRAWN-ROW", laterLog, StringComparison.Ordinal);
        Assert.DoesNotContain("extra", laterLog, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SPER-1")]
    public async Task A_job_whose_output_passes_the_log_limit_is_stopped_and_its_log_ends_with_a_marker()
    {
        var ct = TestContext.Current.CancellationToken;
        // Note: 5 MB of 0x01 bytes is 30 MB escaped; without the limit the job then sleeps a minute.
        var id = await JobsApi.StartAsync(_researcher, _projectId, "/bin/sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' '\\1'; sleep 60; echo not-stopped");
        var watch = Stopwatch.StartNew();

        var log = await JobsApi.LogAsync(_researcher, _projectId, id);
        var job = await JobsApi.ShowAsync(_researcher, _projectId, id);
        var stored = new FileInfo(_f.Server.Services.GetRequiredService<OpenSpe.Server.Workspaces.JobLogStore>().PathOf(_projectId, id)).Length;
        var records = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), ct);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the job ran {watch.Elapsed}");
        Assert.Equal((JobStates.Stopped, "log-limit"), (job.State, job.EndReason));
        Assert.True(stored <= LogLimit + 512, $"{stored} bytes stored");
        Assert.Contains("Jobs:MaxLogBytes", log.Last(e => e.Stream == JobLogStreams.StandardError).Text, StringComparison.Ordinal);
        Assert.DoesNotContain("not-stopped", JobsApi.Text(log, JobLogStreams.StandardOutput), StringComparison.Ordinal);
        Assert.Equal(new JobLogEntry(JobLogStreams.End, State: JobStates.Stopped, ExitCode: log[^1].ExitCode, Reason: "log-limit"), log[^1]);
        Assert.Contains(records, r => r.Action == "job.ended" && r.ResourceId == id && r.DetailsJson.Contains("\"reason\":\"log-limit\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-4")]
    public async Task An_approved_component_runs_only_as_the_approved_build()
    {
        var text = Encoding.UTF8.GetString(Component).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("$", "\\$", StringComparison.Ordinal);
        var install = await JobsApi.StartAsync(_researcher, _projectId, "/bin/sh", "-c",
            $"for v in 1.0.0 2.0.0; do mkdir -p /project/components/cohort-count && printf '%s' \"{text}\" > /project/components/cohort-count/$v; done; chmod +x /project/components/cohort-count/*");
        Assert.Equal(JobStates.Succeeded, (await JobsApi.LogAsync(_researcher, _projectId, install))[^1].State);

        var approved = await JobsApi.RunAsync(_researcher, _projectId, new { component = "cohort-count", args = new[] { "patients" } });
        var job = JsonDocument.Parse(await approved.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("id").GetString()!;
        var log = await JobsApi.LogAsync(_researcher, _projectId, job);
        var wrong = await JobsApi.RunAsync(_researcher, _projectId, new { component = "cohort-count@2.0.0", args = new[] { "patients" } });

        Assert.Equal(HttpStatusCode.Accepted, approved.StatusCode);
        Assert.Equal("counted patients in 501 lines\n", JobsApi.Text(log, JobLogStreams.StandardOutput));
        Assert.Equal(["/project/components/cohort-count/1.0.0", "patients"], (await JobsApi.ShowAsync(_researcher, _projectId, job)).Command);
        // Version 2.0.0 is approved with another SHA-256 than its file has.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FCR-4")]
    public async Task A_component_whose_file_is_not_the_approved_build_is_refused_and_audited()
    {
        var install = await JobsApi.StartAsync(_researcher, _projectId, "/bin/sh", "-c",
            "mkdir -p /project/components/cohort-count && echo 'echo tampered' > /project/components/cohort-count/1.0.0 && chmod +x /project/components/cohort-count/1.0.0");
        Assert.Equal(JobStates.Succeeded, (await JobsApi.LogAsync(_researcher, _projectId, install))[^1].State);

        var tampered = await JobsApi.RunAsync(_researcher, _projectId, new { component = "cohort-count", args = new[] { "x" } });
        var listed = await _researcher.GetStringAsync($"/api/v1/projects/{_projectId}/jobs", TestContext.Current.CancellationToken);

        var body = await tampered.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(tampered.StatusCode == HttpStatusCode.UnprocessableEntity, body);
        Assert.Equal(ErrorCodes.ComponentHashMismatch, JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
        Assert.Single(JsonDocument.Parse(listed).RootElement.EnumerateArray());
        var records = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        Assert.Contains(records, r => r.Action == "job.refused" && r.ProjectId == _projectId && r.ResourceId == "cohort-count@1.0.0"
            && r.DetailsJson.Contains("component-sha256-mismatch", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "OPR-20")]
    [Trait("Requirement", "SDR-4")]
    public async Task A_halt_kills_a_running_job_within_one_second_and_its_plaintext_goes()
    {
        var id = await JobsApi.StartAsync(_researcher, _projectId, "/bin/sh", "-c", "head -c 10 /data/omop-2026/cohort.csv > /dev/null && echo ready; exec sleep 600");
        using (var follow = await _researcher.GetAsync($"/api/v1/projects/{_projectId}/jobs/{id}/logs?follow=true", HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken))
        using (var reader = new StreamReader(await follow.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken)))
        {
            // The job runs, with its plaintext staged, once it printed this.
            Assert.Contains("ready", await reader.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60)), StringComparison.Ordinal);
        }

        var staging = _f.Server.Services.GetRequiredService<IPlaintextStaging>();
        Assert.True(staging.IsStaged(_projectId));
        var run = _f.Server.Services.GetRequiredService<OpenSpe.Server.Workspaces.JobScheduler>().Find(id)!;
        using var operatorClient = await _f.Server.ClientForAccountAsync("operator");

        var halted = Stopwatch.StartNew();
        var halt = await operatorClient.PostAsync("/api/v1/halts", JsonContent(new { projectId = _projectId, reason = "incident" }), TestContext.Current.CancellationToken);
        // Note: a bounded wait for the job's recorded end, not a timing assertion of its own.
        await run.Ended.WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        TestContext.Current.SendDiagnosticMessage($"halt to recorded job end: {halted.ElapsedMilliseconds} ms");

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.False(staging.IsStaged(_projectId));
        Assert.Empty(Directory.Exists(_plaintext) ? Directory.EnumerateFiles(_plaintext, "*", SearchOption.AllDirectories) : []);
        var job = await _researcher.GetAsync($"/api/v1/projects/{_projectId}/jobs/{id}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Locked, job.StatusCode);
    }

    private static StringContent JsonContent(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");
}
