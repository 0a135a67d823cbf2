using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting.Demo;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>
/// <c>spe server --dev</c> seeds a demo permit whose dataset holds the CNSIM1 synthetic cohort, so that a newcomer who
/// signs in as <c>researcher</c> has a project with data at once (issue #13 item 8).
/// </summary>
public sealed class DevDemoTests
{
    // SHA-256 of CNSIM1.csv as published in the project's shared synthetic data (2,163 rows and a header).
    private const string Cnsim1Sha256 = "a45d06c7359bb1ff4a39fad7b7f44b52e320a25cd3bf142e9db3a0f65feea7c8";

    private static readonly Dictionary<string, string?> DemoOn = new() { ["Server:DevDemo"] = "true" };

    [Fact]
    [Trait("Requirement", "SPER-1")]
    public async Task Researcher_finds_the_demo_project_with_its_encrypted_dataset_file()
    {
        await using var server = await SpeTestServer.StartAsync(settings: DemoOn);
        using var researcher = await new IdentityClient(server).ClientForAsync("researcher");

        var projects = (await researcher.GetFromJsonAsync<JsonElement>("/api/v1/projects")).EnumerateArray().ToList();
        var project = Assert.Single(projects);
        var projectId = project.GetProperty("id").GetString()!;
        var files = (await researcher.GetFromJsonAsync<JsonElement>($"/api/v1/projects/{projectId}/files")).EnumerateArray().ToList();

        var file = Assert.Single(files);
        Assert.Equal("CNSIM1.csv", file.GetProperty("filename").GetString());
        Assert.Equal(DevDemo.DatasetId, file.GetProperty("dataset").GetString());
        Assert.Equal(Cnsim1Sha256, file.GetProperty("plaintextSha256").GetString());
        Assert.Equal("holder", file.GetProperty("uploadedBy").GetString());

        // Stored only as Crypt4GH for the project's key, and that key opens it to the published bytes.
        var objects = server.Services.GetRequiredService<IObjectStore>();
        var keys = server.Services.GetRequiredService<IProjectKeyStore>();
        await using var stored = await objects.OpenReadAsync($"projects/{projectId}/datasets/{DevDemo.DatasetId}/{file.GetProperty("id").GetString()}.c4gh");
        using var plaintext = new MemoryStream();
        await keys.UsePrivateKeyAsync(projectId, async key =>
        {
            await using var decrypting = new Crypt4ghDecryptingStream(stored, key, leaveOpen: true);
            await decrypting.CopyToAsync(plaintext);
            return true;
        }, TestContext.Current.CancellationToken);
        Assert.Equal(Cnsim1Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(plaintext.ToArray())));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-11")]
    public async Task The_demo_is_issued_by_the_hdab_uploaded_by_the_holder_audited_and_seeded_once()
    {
        await using var first = await SpeTestServer.StartAsync(settings: DemoOn);
        var audit = first.Services.GetRequiredService<AuditService>();
        var issued = Assert.Single(await audit.QueryAsync(new AuditQuery(Action: "permit.issued")));
        var uploaded = Assert.Single(await audit.QueryAsync(new AuditQuery(Action: "dataset.file.uploaded")));
        Assert.Equal("hdab", issued.ActorUsername);
        Assert.Equal("holder", uploaded.ActorUsername);
        var directory = first.DataDirectory;
        await first.StopKeepingDataAsync();

        await using var again = await SpeTestServer.StartAsync(settings: DemoOn, reuseDirectory: directory);
        using var hdab = await new IdentityClient(again).ClientForAsync("hdab");
        var permits = (await hdab.GetFromJsonAsync<JsonElement>("/api/v1/permits")).EnumerateArray().ToList();
        Assert.Equal(DevDemo.Reference, Assert.Single(permits).GetProperty("reference").GetString());
        Assert.True((await again.Services.GetRequiredService<AuditService>().VerifyAsync()).Valid);
    }

    [Fact]
    [Trait("Requirement", "SPER-1")]
    [Trait("Requirement", "SPER-6")]
    public async Task A_researcher_runs_a_job_on_the_demo_data_with_the_dev_defaults()
    {
        // The runtime and its directories as `spe server --dev` chooses them (nothing under Workspaces: configured).
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { ["Server:DevDemo"] = "true", ["Workspaces:Runtime"] = null });
        var options = server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<OpenSpe.Workspaces.WorkspaceOptions>>().Value;
        try
        {
            var runtime = server.Services.GetRequiredService<OpenSpe.Workspaces.IWorkspaceRuntime>();
            if (!runtime.Availability.IsAvailable)
            {
                Requirements.Missing("bubblewrap sandboxes unavailable: " + runtime.Availability.Reason + " (apt-get install bubblewrap)");
            }

            using var researcher = await new IdentityClient(server).ClientForAsync("researcher");
            var projectId = (await researcher.GetFromJsonAsync<JsonElement>("/api/v1/projects"))[0].GetProperty("id").GetString()!;

            var jobId = await Workspaces.JobsApi.StartAsync(researcher, projectId, "sh", "-c", "id -u; wc -l < /data/cnsim1/CNSIM1.csv");
            var log = await Workspaces.JobsApi.LogAsync(researcher, projectId, jobId);
            var job = await Workspaces.JobsApi.ShowAsync(researcher, projectId, jobId);

            Assert.Equal(0, job.ExitCode);
            var lines = Workspaces.JobsApi.Text(log, "stdout").Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEqual("0", lines[0]);
            Assert.Equal("2164", lines[1].Trim());
        }
        finally
        {
            await server.StopKeepingDataAsync();
            foreach (var directory in new[] { options.Root, options.PlaintextRoot })
            {
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }
    }

    [Fact]
    public void The_embedded_dataset_is_the_published_cnsim1()
    {
        Assert.Equal(Cnsim1Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(DevDemo.Dataset())));
    }
}
