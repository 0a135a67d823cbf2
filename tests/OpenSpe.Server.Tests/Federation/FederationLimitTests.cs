using Grpc.Core;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>Per-peer flow control: a peer over its call rate, or over its open streams, is refused with RESOURCE_EXHAUSTED.</summary>
public sealed class FederationLimitTests : IAsyncLifetime
{
    private readonly FederationNodeFixture _node = new();

    public async ValueTask InitializeAsync() => await _node.StartAsync(new Dictionary<string, string?>
    {
        ["Federation:PeerBurst"] = "4",
        ["Federation:PeerCallsPerSecond"] = "1",
        ["Federation:PeerMaxStreams"] = "1",
    });

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-36")]
    public async Task Calls_over_the_peers_rate_are_refused_with_resource_exhausted_and_audited()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            try
            {
                await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline());
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                Assert.StartsWith(ErrorCodes.FederationExhausted, ex.Status.Detail, StringComparison.Ordinal);
                return ex.StatusCode;
            }
        }));

        Assert.Contains(StatusCode.ResourceExhausted, outcomes);
        Assert.All(outcomes, o => Assert.Contains(o, new[] { StatusCode.OK, StatusCode.ResourceExhausted }));
        Assert.NotEmpty(await _node.RecordsAsync("federation.peer.refused", where: r => r.DetailsJson.Contains(ErrorCodes.FederationExhausted, StringComparison.Ordinal)));
    }

    [Fact]
    [Trait("Requirement", "TIR-36")]
    public async Task A_stream_over_the_peers_open_stream_cap_is_refused_with_resource_exhausted()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        using var stop = new CancellationTokenSource();
        var accepted = await client.SubmitTaskAsync(
            new TaskRequest { Component = FloodAnalysis.Name, Requester = FederationNodeFixture.Researcher, Permit = _node.SignedPermit, ParametersJson = "{}" },
            FederationNodeFixture.Deadline());
        using var first = client.WatchTask(new WatchRequest { TaskId = accepted.TaskId }, FederationNodeFixture.Deadline(stop.Token));
        Assert.True(await first.ResponseStream.MoveNext(stop.Token));

        using var second = client.WatchTask(new WatchRequest { TaskId = accepted.TaskId }, FederationNodeFixture.Deadline());
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await second.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        await stop.CancelAsync();
    }
}
