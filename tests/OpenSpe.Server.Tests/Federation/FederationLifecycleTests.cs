using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Federation;
using OpenSpe.Core.Permits;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// What changes while a node runs: a certificate revoked at the CA is refused from the next handshake without a restart, and from
/// the next call over a connection it opened before, as is one that expired since; a halted project, an expired permit and a permit
/// its HDAB suspended or revoked at the node refuse tasks.
/// </summary>
public sealed class FederationLifecycleTests : IAsyncLifetime
{
    private readonly FederationNodeFixture _node = new();

    // Note: streams are judged again every 200 ms here (5 s by default), so a cut stream is seen without waiting long.
    public async ValueTask InitializeAsync() => await _node.StartAsync(new Dictionary<string, string?> { ["Federation:StreamRecheckInterval"] = "00:00:00.200" });

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-31")]
    public async Task A_certificate_revoked_at_the_CA_is_refused_from_the_next_connection_without_a_restart()
    {
        var before = _node.Client("node-b", out var first);
        using (first)
        {
            Assert.Equal("node-a", (await before.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline())).Node);
        }

        using (var ca = FederationCa.Open(_node.CaDirectory))
        {
            ca.Revoke("node-b", DateTimeOffset.UtcNow);
        }

        var after = _node.Client("node-b", out var second);
        using var _ = second;
        await Assert.ThrowsAsync<RpcException>(async () => await after.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline()));
        Assert.NotEmpty(await _node.RecordsAsync("federation.peer.refused", where: r => r.DetailsJson.Contains("certificate-revoked", StringComparison.Ordinal)
            && r.DetailsJson.Contains("node-b", StringComparison.Ordinal)));
    }

    [Fact]
    [Trait("Requirement", "TIR-30")]
    [Trait("Requirement", "TIR-31")]
    public async Task A_peer_revoked_while_its_connection_is_open_is_refused_on_its_next_call_over_that_connection_and_audited()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        Assert.Equal("node-a", (await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline())).Node);

        using (var ca = FederationCa.Open(_node.CaDirectory))
        {
            ca.Revoke("node-b", DateTimeOffset.UtcNow);
        }

        // The same channel, so the same connection: its handshake admitted node-b before the revocation.
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline()));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal($"{ErrorCodes.FederationPeerNotAdmitted} {PeerRefusalReasons.Revoked}", refused.Status.Detail);
        Assert.Equal(ErrorCodes.FederationPeerNotAdmitted, refused.Trailers.GetValue("spe-code"));
        await AssertRefusedOnCallAsync(PeerRefusalReasons.Revoked);
    }

    [Fact]
    [Trait("Requirement", "TIR-31")]
    public async Task A_peer_whose_certificate_expired_while_its_connection_is_open_is_refused_on_its_next_call()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        Assert.Equal("node-a", (await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline())).Node);

        // node-b's certificate is valid until 300 days after the clock's start.
        _node.Node.Clock.Advance(TimeSpan.FromDays(301));

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline()));

        // Note: on a machine loaded enough that the client's HTTP/2 connection was dropped and opened again, the new handshake
        // refuses the expired certificate before any call (UNAVAILABLE, audited at stage "handshake"): refused either way, for
        // the same reason; the open-connection path is what an unloaded run checks.
        if (refused.StatusCode == StatusCode.Unavailable)
        {
            await AssertRefusedAsync(PeerRefusalReasons.Expired, "handshake");
            return;
        }

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal($"{ErrorCodes.FederationPeerNotAdmitted} {PeerRefusalReasons.Expired}", refused.Status.Detail);
        await AssertRefusedOnCallAsync(PeerRefusalReasons.Expired);
    }

    [Fact]
    [Trait("Requirement", "TIR-30")]
    [Trait("Requirement", "TIR-31")]
    [Trait("Requirement", "TIR-33")]
    public async Task A_stream_open_when_its_peer_is_revoked_is_cut_with_unauthenticated_and_audited()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        var accepted = await client.SubmitTaskAsync(
            new TaskRequest { Component = FloodAnalysis.Name, Requester = FederationNodeFixture.Researcher, Permit = _node.SignedPermit, ParametersJson = "{}" },
            FederationNodeFixture.Deadline());
        using var watch = client.WatchTask(new WatchRequest { TaskId = accepted.TaskId }, FederationNodeFixture.Deadline());
        Assert.True(await watch.ResponseStream.MoveNext());

        using (var ca = FederationCa.Open(_node.CaDirectory))
        {
            ca.Revoke("node-b", DateTimeOffset.UtcNow);
        }

        // The watcher reads nothing until the node has judged node-b again; the flood's task is still running then.
        var records = await _node.RecordsAsync("federation.peer.refused", where: r => r.DetailsJson.Contains("\"stream\"", StringComparison.Ordinal));
        var details = JsonDocument.Parse(Assert.Single(records).DetailsJson).RootElement;
        Assert.Equal("node-b", details.GetProperty("peer").GetString());
        Assert.Equal(PeerRefusalReasons.Revoked, details.GetProperty("reason").GetString());

        // What the node had sent before the cut is still read, then the stream ends. Note: the node's write was waiting on flow
        // control (this watcher read nothing), and a cancelled write resets the stream, so the peer may learn only that it
        // ended; a stream cut between writes ends with the reason (UNAUTHENTICATED, SPE7003). The node's records say why either way.
        var cut = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await watch.ResponseStream.MoveNext())
            {
            }
        });
        // Note: a reset stream reaches the client as CANCELLED or INTERNAL, depending on where its read was when the reset came.
        Assert.Contains(cut.StatusCode, new[] { StatusCode.Unauthenticated, StatusCode.Cancelled, StatusCode.Internal });
        if (cut.StatusCode == StatusCode.Unauthenticated)
        {
            Assert.Equal($"{ErrorCodes.FederationPeerNotAdmitted} {PeerRefusalReasons.Revoked}", cut.Status.Detail);
        }

        Assert.True(_node.Node.Server.Services.GetRequiredService<FloodAnalysis>().Emitted < FloodAnalysis.Events);
        var call = await _node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains("WatchTask", StringComparison.Ordinal));
        Assert.Contains("Unauthenticated", Assert.Single(call).DetailsJson, StringComparison.Ordinal);
    }

    /// <summary>node-b's refusal is on record as a handshake's would be, at the stage <c>call</c>.</summary>
    private Task AssertRefusedOnCallAsync(string reason) => AssertRefusedAsync(reason, "call");

    private async Task AssertRefusedAsync(string reason, string stage)
    {
        var records = await _node.RecordsAsync("federation.peer.refused", where: r => r.DetailsJson.Contains(reason, StringComparison.Ordinal));
        // Note: one call is refused once; a client may try the handshake more than once before it gives up.
        Assert.True(stage == "handshake" ? records.Count >= 1 : records.Count == 1, $"{records.Count} refusal records");
        Assert.All(records, record =>
        {
            var details = JsonDocument.Parse(record.DetailsJson).RootElement;
            Assert.Equal("node-b", details.GetProperty("peer").GetString());
            Assert.Equal(reason, details.GetProperty("reason").GetString());
            Assert.Equal(stage, details.GetProperty("stage").GetString());
        });
    }

    [Fact]
    [Trait("Requirement", "FSPER-3")]
    public async Task A_halted_project_refuses_tasks()
    {
        var halt = await _node.Node.PostAsAsync("operator", "/api/v1/halts", new { projectId = _node.ProjectId, reason = "suspected exfiltration" });
        Assert.True(halt.IsSuccessStatusCode, await halt.Content.ReadAsStringAsync());

        var refused = await SubmitAsync();

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.StartsWith(ErrorCodes.FederationHalted, refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FSPER-3")]
    public async Task An_expired_permit_refuses_tasks_even_with_its_signature_intact()
    {
        _node.Node.Clock.Advance(TimeSpan.FromDays(31));

        var refused = await SubmitAsync();

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.StartsWith(ErrorCodes.FederationPermitNotInForce, refused.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Requirement", "FSPER-3")]
    [InlineData("suspend", PermitStates.Suspended)]
    [InlineData("revoke", PermitStates.Terminated)]
    public async Task A_permit_its_HDAB_suspended_or_revoked_at_the_node_refuses_tasks_even_with_its_signature_intact_and_is_audited(string change, string state)
    {
        // Note: the signed permit the peer presents is unchanged and in force; only this node's own record of it says otherwise,
        // so the refusal can come only from the node checking its local permit's state (a revoked permit is terminated at once).
        string local;
        await using (var scope = _node.Node.Server.Services.CreateAsyncScope())
        {
            local = await scope.ServiceProvider.GetRequiredService<SpeDbContext>().Permits.Where(p => p.ProjectId == _node.ProjectId).Select(p => p.Id).SingleAsync();
        }

        var changed = await _node.Node.PostAsAsync("hdab", $"/api/v1/permits/{local}/{change}", new { reason = "investigation" });
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());
        var tasks = _node.Node.Server.Services.GetRequiredService<FederatedTasks>();
        var before = tasks.Count;

        var refused = await SubmitAsync();

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal($"{ErrorCodes.FederationPermitNotInForce} the permit is {state} at this node", refused.Status.Detail);
        Assert.True(tasks.Count <= before, $"{tasks.Count} tasks after the refusal, {before} before");
        var records = await _node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains(ErrorCodes.FederationPermitNotInForce, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Outcome == "denied" && r.DetailsJson.Contains("\"peer\":\"node-b\"", StringComparison.Ordinal));
    }

    private async Task<RpcException> SubmitAsync()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        return await Assert.ThrowsAsync<RpcException>(async () => await client.SubmitTaskAsync(
            new TaskRequest { Component = RowCountAnalysis.Name, Requester = FederationNodeFixture.Researcher, Permit = _node.SignedPermit, ParametersJson = "{}" },
            FederationNodeFixture.Deadline()));
    }
}
