using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Workspaces;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>
/// A server with the real bubblewrap sandbox and a project whose permit allows jobs, exports of csv/txt/md/png and imports of
/// py/csv, with <c>reviewersRequired</c> 2 — the airlock tests' world. Files reach <c>/outputs</c> only through real jobs.
/// </summary>
internal sealed class AirlockSandbox : IAsyncDisposable
{
    private static int instances;
    private readonly string _root = Path.Join(Path.GetTempPath(), "openspe-airlock-test-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly string _plaintext = Path.Join("/dev/shm", "openspe-airlock-test-" + Guid.NewGuid().ToString("N")[..12]);

    private AirlockSandbox()
    {
    }

    public PermitFixture F { get; private set; } = null!;

    public string PermitId { get; private set; } = "";

    public string ProjectId { get; private set; } = "";

    public HttpClient Researcher { get; private set; } = null!;

    /// <summary>The workspaces root on the host (the sandbox's /project, /outputs live under it).</summary>
    public string Root => _root;

    public string Exports => $"/api/v1/projects/{ProjectId}/exports";

    public static async Task<AirlockSandbox> StartAsync(IDictionary<string, string?>? settings = null, int reviewersRequired = 2, TestBackend backend = TestBackend.Sqlite,
        string[]? exportTypes = null, string[]? importTypes = null)
    {
        var world = new AirlockSandbox();
        var all = new Dictionary<string, string?>
        {
            ["Workspaces:Runtime"] = "bubblewrap",
            ["Workspaces:Root"] = world._root,
            ["Workspaces:PlaintextRoot"] = world._plaintext,
            // Note: a uid range per server and process, so parallel tests never share a project uid.
            ["Workspaces:UidRangeStart"] = (700_000 + (Environment.ProcessId % 1000 * 100) + (Interlocked.Increment(ref instances) % 10 * 10)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Workspaces:UidRangeSize"] = "10",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        world.F = await PermitFixture.StartAsync(all, backend);
        var runtime = world.F.Server.Services.GetRequiredService<IWorkspaceRuntime>();
        if (!runtime.Availability.IsAvailable)
        {
            Requirements.Missing("bubblewrap sandboxes unavailable: " + runtime.Availability.Reason + " (apt-get install bubblewrap)");
        }

        await world.F.Server.EnsureAccountAsync("researcher3", "researcher", "output-checker");
        (world.PermitId, world.ProjectId) = await world.F.IssueAsync(Document(reviewersRequired, exportTypes: exportTypes, importTypes: importTypes));
        world.Researcher = await world.F.Server.ClientForAccountAsync("researcher");
        return world;
    }

    public static Dictionary<string, object?> Document(int reviewersRequired, string reference = "HDAB-FI-2026-0042", string[]? exportTypes = null,
        string[]? importTypes = null)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), reference, "researcher", "researcher2", "researcher3");
        document["policies"] = new
        {
            workspaceKinds = new[] { "job" },
            fileTypes = new { upload = new[] { "csv" }, export = exportTypes ?? ["csv", "txt", "md", "png"], import = importTypes ?? ["py", "csv"] },
            airlock = new { reviewersRequired },
        };
        return document;
    }

    /// <summary>Runs a shell script in the project's sandbox as the researcher and asserts that it succeeded.</summary>
    public async Task<string> RunAsync(string script)
    {
        var id = await JobsApi.StartAsync(Researcher, ProjectId, "/bin/sh", "-c", script);
        var log = await JobsApi.LogAsync(Researcher, ProjectId, id);
        Assert.True(log[^1].State == JobStates.Succeeded, string.Join(" | ", log.Select(e => $"{e.Stream}: {e.Text}")));
        return JobsApi.Text(log, JobLogStreams.StandardOutput);
    }

    /// <summary>Submits an export; returns the answer.</summary>
    public Task<HttpResponseMessage> RequestAsync(HttpClient client, object body) => client.PostAsJsonAsync(Exports, body);

    /// <summary>Submits an export that must be accepted; returns its view.</summary>
    public async Task<AirlockRequestView> RequestOkAsync(params string[] files) => await RequestOkAsync(new { files, reason = "results for the paper" });

    public async Task<AirlockRequestView> RequestOkAsync(object body)
    {
        var response = await RequestAsync(Researcher, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonSerializer.Deserialize<AirlockRequestView>(text, JsonSerializerOptions.Web)!;
    }

    public async Task<HttpResponseMessage> ReviewAsync(string account, string requestId, object body)
    {
        using var client = await F.Server.ClientForAccountAsync(account);
        return await client.PostAsJsonAsync($"{Exports}/{requestId}/reviews", body);
    }

    public async Task<AirlockRequestView> ShowAsync(string requestId) =>
        (await Researcher.GetFromJsonAsync<AirlockRequestView>($"{Exports}/{requestId}", JsonSerializerOptions.Web))!;

    public Task<HttpResponseMessage> DownloadAsync(HttpClient client, string requestId, string name) =>
        client.GetAsync($"{Exports}/{requestId}/files/{Uri.EscapeDataString(name)}");

    public async ValueTask DisposeAsync()
    {
        Researcher?.Dispose();
        if (F is not null)
        {
            await F.DisposeAsync();
        }

        foreach (var directory in new[] { _root, _plaintext })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
