using Grpc.Core;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Federation;
using static OpenSpe.Server.Tests.Monitoring.MetricsEndpointTests;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The federation meter at <c>/metrics</c> (TIR-34): after real calls from an allowed peer over mTLS on loopback, the node's
/// operator reads that peer's calls, their duration, the message bytes received from and sent to it, and its refusals; a
/// party refused at the handshake whose name is not on the allow-list is counted under one bounded tag, not its own name.
/// </summary>
[Collection(MetricsSerial.Name)]
public sealed class FederationMetricsTests : IAsyncLifetime
{
    private const string Peer = "node-b";
    private const string Capabilities = "/openspe.federation.v1.Federation/GetCapabilities";
    private const string Submit = "/openspe.federation.v1.Federation/SubmitTask";
    private const string Watch = "/openspe.federation.v1.Federation/WatchTask";
    private readonly FederationNodeFixture _node = new();

    public ValueTask InitializeAsync() => _node.InitializeAsync();

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-34")]
    public async Task A_peers_calls_bytes_refusals_and_durations_appear_in_the_metrics_after_real_calls()
    {
        using var operatorClient = await _node.Node.Server.ClientForAccountAsync("operator");
        var before = await ScrapeAsync(operatorClient);
        var client = _node.Client(Peer, out var channel);
        using var _ = channel;

        var capabilitiesRequest = new CapabilitiesRequest { Permit = _node.SignedPermit };
        var capabilities = await client.GetCapabilitiesAsync(capabilitiesRequest, FederationNodeFixture.Deadline());
        var taskRequest = new TaskRequest { Component = RowCountAnalysis.Name, Requester = FederationNodeFixture.Researcher, Permit = _node.SignedPermit, ParametersJson = "{}" };
        var accepted = await client.SubmitTaskAsync(taskRequest, FederationNodeFixture.Deadline());
        var watchRequest = new WatchRequest { TaskId = accepted.TaskId };
        var events = new List<TaskEvent>();
        using (var watch = client.WatchTask(watchRequest, FederationNodeFixture.Deadline()))
        {
            await foreach (var item in watch.ResponseStream.ReadAllAsync(TestContext.Current.CancellationToken))
            {
                events.Add(item);
            }
        }

        // Note: a call without a deadline is refused by the call interceptor (a refusal of an admitted peer, under its name).
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(new CapabilitiesRequest()));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var stranger = _node.Client("node-c", out var strangerChannel);
        using (strangerChannel)
        {
            await Assert.ThrowsAsync<RpcException>(async () => await stranger.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline()));
        }

        // The handshake's refusal is counted before its audit record is handed to the writer; this waits for the record.
        Assert.NotEmpty(await _node.RecordsAsync("federation.peer.refused", where: r => r.DetailsJson.Contains(PeerRefusalReasons.NotAllowed, StringComparison.Ordinal)));
        var after = await ScrapeAsync(operatorClient);

        double Delta(string name, params (string, string)[] labels) => Sum(after, name, labels) - Sum(before, name, labels);
        Assert.Equal(1, Delta("openspe_federation_calls_total", ("peer", Peer), ("method", Capabilities), ("status", "OK")));
        Assert.Equal(1, Delta("openspe_federation_calls_total", ("peer", Peer), ("method", Submit), ("status", "OK")));
        Assert.Equal(1, Delta("openspe_federation_calls_total", ("peer", Peer), ("method", Watch), ("status", "OK")));
        Assert.Equal(3, Delta("openspe_federation_call_duration_seconds_count", ("peer", Peer)));
        Assert.True(Delta("openspe_federation_call_duration_seconds_sum", ("peer", Peer)) > 0, "the calls' durations are recorded");
        Assert.Equal(capabilitiesRequest.CalculateSize(), Delta("openspe_federation_bytes_total", ("peer", Peer), ("method", Capabilities), ("direction", "received")));
        Assert.Equal(capabilities.CalculateSize(), Delta("openspe_federation_bytes_total", ("peer", Peer), ("method", Capabilities), ("direction", "sent")));
        Assert.Equal(taskRequest.CalculateSize(), Delta("openspe_federation_bytes_total", ("peer", Peer), ("method", Submit), ("direction", "received")));
        Assert.Equal(accepted.CalculateSize(), Delta("openspe_federation_bytes_total", ("peer", Peer), ("method", Submit), ("direction", "sent")));
        Assert.Equal(watchRequest.CalculateSize(), Delta("openspe_federation_bytes_total", ("peer", Peer), ("method", Watch), ("direction", "received")));
        Assert.Equal(events.Sum(e => e.CalculateSize()), Delta("openspe_federation_bytes_total", ("peer", Peer), ("method", Watch), ("direction", "sent")));
        Assert.True(events.Sum(e => e.CalculateSize()) > 0, "the task's events carried bytes");
        Assert.Equal(1, Delta("openspe_federation_refusals_total", ("peer", Peer), ("reason", ErrorCodes.FederationDeadline)));
        Assert.True(Delta("openspe_federation_refusals_total", ("peer", FederationMetrics.OtherPeer), ("reason", PeerRefusalReasons.NotAllowed)) >= 1, "the stranger is counted");
        Assert.DoesNotContain("peer=\"node-c\"", after, StringComparison.Ordinal);
    }
}
