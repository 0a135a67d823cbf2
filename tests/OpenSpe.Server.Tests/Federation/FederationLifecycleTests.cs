using Grpc.Core;
using OpenSpe.Core.Federation;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// What changes while a node runs: a certificate revoked at the CA is refused from the next handshake without a restart; a
/// halted project and an expired permit refuse tasks.
/// </summary>
public sealed class FederationLifecycleTests : IAsyncLifetime
{
    private readonly FederationNodeFixture _node = new();

    public async ValueTask InitializeAsync() => await _node.StartAsync(new Dictionary<string, string?>());

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

    private async Task<RpcException> SubmitAsync()
    {
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        return await Assert.ThrowsAsync<RpcException>(async () => await client.SubmitTaskAsync(
            new TaskRequest { Component = RowCountAnalysis.Name, Requester = FederationNodeFixture.Researcher, Permit = _node.SignedPermit, ParametersJson = "{}" },
            FederationNodeFixture.Deadline()));
    }
}
