using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// The caps on what peers make a node do (TIR-36, issue #15): tasks per peer, and components at work node-wide with a bounded
/// queue. node-b and node-c both call node-a, each for a permit it coordinates; the flood component holds its slot while nobody
/// reads its events, so a task stays at work until its watcher is done with it.
/// </summary>
public sealed class FederationTaskCapTests
{
    [Fact]
    [Trait("Requirement", "TIR-36")]
    [Trait("Requirement", "FSPER-9")]
    public async Task A_peer_at_its_task_cap_is_refused_with_resource_exhausted_while_another_peer_is_still_served()
    {
        // Arrange: node-b may hold two tasks; it holds two that are at work.
        await using var node = await StartAsync(new Dictionary<string, string?> { ["Federation:PeerMaxTasks"] = "2" });
        var permitC = await PermitOfNodeCAsync(node);
        var b = node.Client("node-b", out var channelB);
        using var _ = channelB;
        var c = node.Client("node-c", out var channelC);
        using var __ = channelC;
        var tasks = node.Node.Server.Services.GetRequiredService<FederatedTasks>();
        for (var i = 0; i < 2; i++)
        {
            await b.SubmitTaskAsync(Flood(node.SignedPermit), FederationNodeFixture.Deadline());
        }

        // Act
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await b.SubmitTaskAsync(Flood(node.SignedPermit), FederationNodeFixture.Deadline()));
        var served = await c.SubmitTaskAsync(Flood(permitC), FederationNodeFixture.Deadline());

        // Assert: node-b is refused and nothing of its third task exists; node-c's task runs.
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(ErrorCodes.FederationExhausted, refused.Trailers.GetValue("spe-code"));
        Assert.Contains("this peer holds its maximum of 2 tasks", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(3, tasks.Count);
        Assert.Equal("running", await FirstEventAsync(c, served.TaskId));
        var records = await node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains("maximum of 2 tasks", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Outcome == "denied" && r.DetailsJson.Contains("\"peer\":\"node-b\"", StringComparison.Ordinal)
            && r.DetailsJson.Contains("ResourceExhausted", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "TIR-36")]
    public async Task Beyond_the_nodes_components_at_work_tasks_wait_in_a_bounded_queue_and_beyond_it_are_refused_with_resource_exhausted()
    {
        // Arrange: one component at work at once, one waiting.
        await using var node = await StartAsync(new Dictionary<string, string?>
        {
            ["Federation:MaxRunningComponents"] = "1",
            ["Federation:ComponentQueue"] = "1",
        });
        var permitC = await PermitOfNodeCAsync(node);
        var gate = node.Node.Server.Services.GetRequiredService<FederatedComponentGate>();
        var b = node.Client("node-b", out var channelB);
        using var _ = channelB;
        var c = node.Client("node-c", out var channelC);
        using var __ = channelC;
        var atWork = await b.SubmitTaskAsync(Flood(node.SignedPermit), FederationNodeFixture.Deadline());
        using var stop = new CancellationTokenSource();
        using var watchAtWork = b.WatchTask(new WatchRequest { TaskId = atWork.TaskId }, FederationNodeFixture.Deadline(stop.Token));
        Assert.True(await watchAtWork.ResponseStream.MoveNext(stop.Token));
        Assert.Equal("running", watchAtWork.ResponseStream.Current.State);
        var waiting = await c.SubmitTaskAsync(Flood(permitC), FederationNodeFixture.Deadline());
        Assert.Equal((1, 2), (gate.Running, gate.Held));

        // Act: a third task finds the slot taken and the queue full.
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await b.SubmitTaskAsync(Flood(node.SignedPermit), FederationNodeFixture.Deadline()));

        // Assert: refused at once; the waiting task runs once the one at work is given up.
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(ErrorCodes.FederationExhausted, refused.Trailers.GetValue("spe-code"));
        Assert.Contains("queue for them is full", refused.Status.Detail, StringComparison.Ordinal);
        await stop.CancelAsync();
        Assert.Equal("running", await FirstEventAsync(c, waiting.TaskId));
    }

    private static async Task<FederationNodeFixture> StartAsync(Dictionary<string, string?> settings)
    {
        var node = new FederationNodeFixture();
        settings["Federation:AllowedPeers:3"] = "node-c";
        await node.StartAsync(settings);
        return node;
    }

    /// <summary>A permit node-c coordinates (its issuer is trusted at node-a with node-c as its node), imported at node-a.</summary>
    private static async Task<string> PermitOfNodeCAsync(FederationNodeFixture node)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-NODE-C-1", FederationNodeFixture.Researcher);
        document["datasets"] = new[] { new { id = "cohort-c", title = "Cohort", holder = "holder", node = "node-a" } };
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            approvedComponents = new[] { ApprovedComponent.Of(FloodAnalysis.Name) },
        };
        var (_, _, signed) = await node.IssueAsync(document, other: true);
        return signed;
    }

    private static TaskRequest Flood(string permit) =>
        new() { Component = FloodAnalysis.Name, Requester = FederationNodeFixture.Researcher, Permit = permit, ParametersJson = "{}" };

    private static async Task<string> FirstEventAsync(OpenSpe.Federation.V1.Federation.FederationClient client, string taskId)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var watch = client.WatchTask(new WatchRequest { TaskId = taskId }, FederationNodeFixture.Deadline(stop.Token));
        Assert.True(await watch.ResponseStream.MoveNext(stop.Token));
        var state = watch.ResponseStream.Current.State;
        await stop.CancelAsync();
        return state;
    }
}
