using System.Net.Http.Json;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// Tasks at a node: the built-in row count end to end (permit verified, local data read from the vault, small counts withheld),
/// every check refusing what it guards, and a watcher that stops reading costing the node a bounded amount.
/// </summary>
public sealed class FederatedTaskTests(FederationNodeFixture node) : IClassFixture<FederationNodeFixture>
{
    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-4")]
    [Trait("Requirement", "FCR-5")]
    [Trait("Requirement", "FSPER-3")]
    [Trait("Requirement", "TIR-33")]
    public async Task The_row_count_runs_on_local_data_and_releases_only_counts_at_or_above_the_threshold()
    {
        var client = node.Client("node-b", out var channel);
        using var _ = channel;
        var sandbox = node.Node.Server.Services.GetRequiredService<FederatedComponentSandbox>();
        var started = sandbox.Started;

        var accepted = await client.SubmitTaskAsync(Request(RowCountAnalysis.Name), FederationNodeFixture.Deadline());
        var events = await WatchAllAsync(client, accepted.TaskId);

        var done = events[^1];
        Assert.Equal("done", done.State);
        var result = JsonDocument.Parse(done.ResultJson).RootElement;
        var counts = result.GetProperty("counts").EnumerateArray().ToDictionary(c => c.GetProperty("dataset").GetString()!);
        Assert.Equal(FederationNodeFixture.DataRows, counts["cohort"].GetProperty("rows").GetInt64());
        Assert.Equal(JsonValueKind.Null, counts["small"].GetProperty("rows").ValueKind);
        Assert.True(counts["small"].GetProperty("suppressed").GetBoolean());
        Assert.Equal(FederationNodeFixture.DataRows, result.GetProperty("total").GetInt64());
        // Counted in the project's sandbox by one runner for both datasets, not in the server.
        Assert.Equal(started + 1, sandbox.Started);
        Assert.DoesNotContain(FederationNodeFixture.SmallRows.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",", done.ResultJson, StringComparison.Ordinal);
        var submitted = (await node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains(accepted.TaskId, StringComparison.Ordinal) && r.DetailsJson.Contains("SubmitTask", StringComparison.Ordinal))).Single();
        var details = JsonDocument.Parse(submitted.DetailsJson).RootElement;
        Assert.Equal("node-b", details.GetProperty("peer").GetString());
        Assert.Equal(node.PermitId, details.GetProperty("permit").GetString());
        Assert.Equal(RowCountAnalysis.Name, details.GetProperty("component").GetString());
        Assert.Equal(FederationNodeFixture.Researcher, details.GetProperty("requester").GetString());
    }

    [Theory]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-4")]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "FSPER-4")]
    [InlineData("unapproved-component", StatusCode.PermissionDenied, ErrorCodes.FederationComponentNotApproved)]
    [InlineData("component-not-allowed-by-operator", StatusCode.PermissionDenied, ErrorCodes.FederationComponentNotAllowed)]
    [InlineData("component-not-installed", StatusCode.NotFound, ErrorCodes.FederationComponentUnknown)]
    [InlineData("requester-not-in-permit", StatusCode.PermissionDenied, ErrorCodes.FederationRequesterNotInPermit)]
    [InlineData("foreign-permit", StatusCode.PermissionDenied, ErrorCodes.FederationPermitUntrusted)]
    [InlineData("tampered-permit", StatusCode.PermissionDenied, ErrorCodes.FederationPermitUntrusted)]
    [InlineData("not-a-permit", StatusCode.PermissionDenied, ErrorCodes.FederationPermitUntrusted)]
    [InlineData("malformed-jws", StatusCode.PermissionDenied, ErrorCodes.FederationPermitUntrusted)]
    [InlineData("malformed-session", StatusCode.InvalidArgument, ErrorCodes.FederationSessionMalformed)]
    public async Task A_task_that_fails_a_check_is_refused_audited_and_not_run(string attack, StatusCode status, string code)
    {
        var client = node.Client("node-b", out var channel);
        using var _ = channel;
        var tasks = node.Node.Server.Services.GetRequiredService<FederatedTasks>();
        var request = attack switch
        {
            "unapproved-component" => Request("test.unknown"),
            "component-not-allowed-by-operator" => Request("test.not-allowed-here"),
            "component-not-installed" => Request("test.not-installed"),
            "requester-not-in-permit" => Request(RowCountAnalysis.Name, requester: "researcher2"),
            "foreign-permit" => Request(RowCountAnalysis.Name, permit: Foreign(node.SignedPermit)),
            "tampered-permit" => Request(RowCountAnalysis.Name, permit: Tampered(node.SignedPermit)),
            "malformed-jws" => Request(RowCountAnalysis.Name, permit: "not.a.permit"),
            "malformed-session" => new TaskRequest(Request(RowCountAnalysis.Name)) { Session = "../../ETC-PASSWD-0000000" },
            _ => Request(RowCountAnalysis.Name, permit: "eyJhbGciOiJub25lIn0.e30."),
        };
        var before = tasks.Count;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.SubmitTaskAsync(request, FederationNodeFixture.Deadline()));

        Assert.Equal(status, refused.StatusCode);
        Assert.StartsWith(code, refused.Status.Detail, StringComparison.Ordinal);
        // Note: at most as many as before, not equal, because a task an earlier test of this node left running may end meanwhile.
        Assert.True(tasks.Count <= before, $"{tasks.Count} tasks after the refusal, {before} before");
        var records = await node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains(code, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Outcome == "denied" && r.DetailsJson.Contains("\"peer\":\"node-b\"", StringComparison.Ordinal));
    }

    [Theory]
    [Trait("Requirement", "FSPER-3")]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "FSPER-9")]
    [Trait("Requirement", "TIR-31")]
    [InlineData("own-permit", "SubmitTask")]
    [InlineData("own-permit", "Train")]
    [InlineData("coordinated-by-another-node", "SubmitTask")]
    [InlineData("coordinated-by-another-node", "Train")]
    public async Task A_peer_admitted_at_TLS_that_does_not_coordinate_the_permit_is_refused_audited_and_nothing_is_decrypted_or_run(string permitKind, string method)
    {
        // Arrange: a permit with data at node-a that node-b does not coordinate: node-a's own (its HDAB signed it, so only node-a
        // coordinates it), or one of a trusted issuer whose node is node-c. node-b is on node-a's allow-list and holds the JWS.
        var reference = $"HDAB-NOT-COORDINATOR-{permitKind}-{method}";
        var dataset = $"nc-{(permitKind == "own-permit" ? "own" : "other")}-{method.ToLowerInvariant()}";
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), reference, FederationNodeFixture.Researcher, "researcher2");
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            approvedComponents = new[] { ApprovedComponent.Of(RowCountAnalysis.Name) },
        };
        string permit;
        string projectId;
        if (permitKind == "own-permit")
        {
            document["datasets"] = new[] { new { id = dataset, title = "Cohort", holder = "holder" } };
            string permitId;
            (permitId, projectId) = await node.Node.IssueAsync(document);
            using var hdab = await node.Node.Server.ClientForAccountAsync("hdab");
            permit = (await hdab.GetStringAsync($"/api/v1/permits/{permitId}/document")).Trim().Trim('"');
        }
        else
        {
            document["datasets"] = new[] { new { id = dataset, title = "Cohort", holder = "holder", node = "node-a" } };
            var imported = await node.IssueAsync(document, other: true);
            (projectId, permit) = (imported.ProjectId, imported.Signed);
        }

        await node.UploadAsync(dataset, "cohort.csv", FederationNodeFixture.Csv(FederationNodeFixture.DataRows), projectId);
        var services = node.Node.Server.Services;
        var sandbox = services.GetRequiredService<FederatedComponentSandbox>();
        var copies = services.GetRequiredService<DecryptedCopies>();
        var tasks = services.GetRequiredService<FederatedTasks>();
        var (started, made, before) = (sandbox.Started, copies.Made, tasks.Count);
        var client = node.Client("node-b", out var channel);
        using var _ = channel;

        // Act: as the review's repro, in the name of a data user node-b chose.
        RpcException refused;
        if (method == "SubmitTask")
        {
            refused = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.SubmitTaskAsync(Request(RowCountAnalysis.Name, requester: "researcher2", permit: permit), FederationNodeFixture.Deadline()));
        }
        else
        {
            using var train = client.Train(FederationNodeFixture.Deadline());
            await train.RequestStream.WriteAsync(new TrainMessage { Kind = "open", Permit = permit, Requester = "researcher2", Component = RowCountAnalysis.Name, ParametersJson = "{}" });
            refused = await Assert.ThrowsAsync<RpcException>(async () => await train.ResponseStream.MoveNext());
        }

        // Assert
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.StartsWith(ErrorCodes.FederationNotCoordinator, refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.FederationNotCoordinator, refused.Trailers.GetValue("spe-code"));
        Assert.Contains("node 'node-b'", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(started, sandbox.Started);
        Assert.Equal(made, copies.Made);
        Assert.True(tasks.Count <= before, $"{tasks.Count} tasks after the refusal, {before} before");
        var records = await node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains(ErrorCodes.FederationNotCoordinator, StringComparison.Ordinal)
            && r.DetailsJson.Contains($"/{method}", StringComparison.Ordinal) && r.DetailsJson.Contains(permitKind == "own-permit" ? "only this SPE" : FederationNodeFixture.OtherIssuer, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Outcome == "denied" && r.DetailsJson.Contains("\"peer\":\"node-b\"", StringComparison.Ordinal)
            && r.DetailsJson.Contains("\"requester\":\"researcher2\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-4")]
    public async Task An_hdab_officer_reads_the_runner_identity_from_the_inventory_and_a_permit_carrying_it_runs()
    {
        using var hdab = await node.Node.Server.ClientForAccountAsync("hdab");
        var inventory = await hdab.GetFromJsonAsync<JsonElement>("/api/v1/operations/components", TestContext.Current.CancellationToken);
        var entry = inventory.GetProperty("federated").EnumerateArray().Single(c => c.GetProperty("name").GetString() == RowCountAnalysis.Name);
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-READ-IDENTITY", FederationNodeFixture.Researcher);
        document["datasets"] = new[] { new { id = "read-identity", title = "Cohort", holder = "holder", node = "node-a" } };
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            // Note: the entry is what the officer read, as they would paste it: name, version and sha256, nothing from the server's code.
            approvedComponents = new[] { new { name = RowCountAnalysis.Name, version = entry.GetProperty("version").GetString(), sha256 = entry.GetProperty("sha256").GetString() } },
        };
        var (_, projectId, permit) = await node.IssueAsync(document);
        await node.UploadAsync("read-identity", "cohort.csv", FederationNodeFixture.Csv(FederationNodeFixture.DataRows), projectId);
        var client = node.Client("node-b", out var channel);
        using var _ = channel;

        var accepted = await client.SubmitTaskAsync(Request(RowCountAnalysis.Name, permit: permit), FederationNodeFixture.Deadline());
        var done = (await WatchAllAsync(client, accepted.TaskId))[^1];

        Assert.True(done.State == "done", done.ToString());
        Assert.Equal(FederationNodeFixture.DataRows, JsonDocument.Parse(done.ResultJson).RootElement.GetProperty("total").GetInt64());
    }

    [Theory]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-4")]
    [InlineData("sha256")]
    [InlineData("version")]
    public async Task A_permit_approving_another_build_of_the_component_is_refused_audited_and_nothing_runs(string differs)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), $"HDAB-OTHER-BUILD-{differs}", FederationNodeFixture.Researcher);
        document["datasets"] = new[] { new { id = $"other-{differs}", title = "Cohort", holder = "holder", node = "node-a" } };
        var other = JsonSerializer.SerializeToElement(differs == "sha256"
            ? ApprovedComponent.Other(RowCountAnalysis.Name)
            : ApprovedComponent.Other(RowCountAnalysis.Name, version: "0.0.1-other", sha256: ApprovedComponent.Identity.Sha256));
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            approvedComponents = new[] { other },
        };
        var (_, _, permit) = await node.IssueAsync(document);
        var client = node.Client("node-b", out var channel);
        using var _ = channel;
        var sandbox = node.Node.Server.Services.GetRequiredService<FederatedComponentSandbox>();
        var tasks = node.Node.Server.Services.GetRequiredService<FederatedTasks>();
        var (started, before) = (sandbox.Started, tasks.Count);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.SubmitTaskAsync(Request(RowCountAnalysis.Name, permit: permit), FederationNodeFixture.Deadline()));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.StartsWith(ErrorCodes.FederationComponentIdentityMismatch, refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.FederationComponentIdentityMismatch, refused.Trailers.GetValue("spe-code"));
        Assert.Contains($"this node runs version {ApprovedComponent.Identity.Version} SHA-256 {ApprovedComponent.Identity.Sha256}", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(started, sandbox.Started);
        Assert.True(tasks.Count <= before, $"{tasks.Count} tasks after the refusal, {before} before");
        // The record's reason is the refusal's detail, which names the entry this permit approved (unique to this case).
        var approved = differs == "sha256" ? $"SHA-256 {other.GetProperty("sha256").GetString()}" : "version 0.0.1-other";
        var records = await node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains(ErrorCodes.FederationComponentIdentityMismatch, StringComparison.Ordinal)
            && r.DetailsJson.Contains(approved, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Outcome == "denied" && r.DetailsJson.Contains("\"peer\":\"node-b\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-4")]
    public async Task Capabilities_show_each_component_with_the_version_and_the_SHA_256_of_the_runner_files_this_node_runs()
    {
        var client = node.Client("node-b", out var channel);
        using var _ = channel;

        var capabilities = await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline());

        // The digest is taken again here from the runner's files on disk, in the documented canonical form, not from the manifest.
        var runner = node.Node.Server.Services.GetRequiredService<FederatedComponentSandbox>().RunnerDirectory;
        var canonical = string.Concat(Directory.EnumerateFiles(runner, "*", SearchOption.AllDirectories)
            .Select(f => (Path: Path.GetRelativePath(runner, f).Replace('\\', '/'), Hex: Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))))
            .OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => $"{f.Hex}  {f.Path}\n"));
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        var version = typeof(FederatedComponentSandbox).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        Assert.Equal(capabilities.Components, capabilities.ComponentIdentities.Select(c => c.Name));
        Assert.Contains(RowCountAnalysis.Name, capabilities.Components);
        Assert.All(capabilities.ComponentIdentities, c =>
        {
            Assert.Equal(expected, c.Sha256);
            Assert.Equal(version, c.Version);
        });
    }

    [Fact]
    [Trait("Requirement", "TIR-36")]
    public async Task A_watcher_that_stops_reading_holds_the_task_back_instead_of_growing_the_nodes_memory()
    {
        var flood = node.Node.Server.Services.GetRequiredService<FloodAnalysis>();
        var client = node.Client("node-b", out var channel);
        using var _ = channel;
        using var stop = new CancellationTokenSource();
        var accepted = await client.SubmitTaskAsync(Request(FloodAnalysis.Name), FederationNodeFixture.Deadline());

        using var watch = client.WatchTask(new WatchRequest { TaskId = accepted.TaskId }, FederationNodeFixture.Deadline(stop.Token));
        Assert.True(await watch.ResponseStream.MoveNext(stop.Token));
        // The watcher now reads nothing more; wait until the component can hand over no more events.
        long seen = -1;
        var still = 0;
        while (still < 10)
        {
            await Task.Delay(50);
            var now = flood.Emitted;
            still = now == seen ? still + 1 : 0;
            seen = now;
        }

        // Note: without the bounded queue all 100,000 events (100 MB) would be held by the node; with it, what is held is the
        // queue (16 events) plus what HTTP/2 flow control lets into the connection's windows (a few hundred KiB).
        Assert.True(seen < 2_000, $"{seen} events were produced for a watcher that stopped reading");
        await stop.CancelAsync();
    }

    private TaskRequest Request(string component, string requester = FederationNodeFixture.Researcher, string? permit = null) =>
        new() { Component = component, Requester = requester, Permit = permit ?? node.SignedPermit, ParametersJson = "{}" };

    private static async Task<List<TaskEvent>> WatchAllAsync(OpenSpe.Federation.V1.Federation.FederationClient client, string taskId)
    {
        using var watch = client.WatchTask(new WatchRequest { TaskId = taskId }, FederationNodeFixture.Deadline());
        var events = new List<TaskEvent>();
        await foreach (var item in watch.ResponseStream.ReadAllAsync())
        {
            events.Add(item);
        }

        return events;
    }

    /// <summary>The same payload signed by a key nobody trusts, with the same issuer and kid.</summary>
    private static string Foreign(string jws)
    {
        var parts = jws.Split('.');
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var header = JsonDocument.Parse(Base64UrlEncoder.Decode(parts[0])).RootElement;
        return new JsonWebTokenHandler().CreateToken(Base64UrlEncoder.Decode(parts[1]),
            new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = header.GetProperty("kid").GetString() }, SecurityAlgorithms.EcdsaSha256),
            new Dictionary<string, object> { ["typ"] = "openspe-permit+jws" });
    }

    /// <summary>The payload changed (a second requester added), the signature kept.</summary>
    private static string Tampered(string jws)
    {
        var parts = jws.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace("\"account\":\"researcher\"", "\"account\":\"mallory\"", StringComparison.Ordinal);
        return parts[0] + "." + Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload)) + "." + parts[2];
    }
}
