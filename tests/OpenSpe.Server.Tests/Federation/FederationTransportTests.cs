using System.Text.Json;
using Grpc.Core;
using OpenSpe.Federation.V1;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// The federation listener over real TLS on loopback: only a peer with a certificate of the federation CA, valid now, not revoked
/// and on the allow-list gets in; every refusal is audited with the peer and the reason; repeated refusals raise a security alert;
/// every call needs a deadline.
/// </summary>
public sealed class FederationTransportTests(FederationNodeFixture node) : IClassFixture<FederationNodeFixture>
{
    [Fact]
    [Trait("Requirement", "TIR-29")]
    [Trait("Requirement", "TIR-30")]
    [Trait("Requirement", "TIR-33")]
    public async Task An_allowed_peer_reads_the_capabilities_and_the_call_is_audited_with_its_certificate()
    {
        var client = node.Client("node-b", out var channel);
        using var _ = channel;

        var capabilities = await client.GetCapabilitiesAsync(new CapabilitiesRequest { Permit = node.SignedPermit }, FederationNodeFixture.Deadline());

        Assert.Equal("node-a", capabilities.Node);
        Assert.Equal(["openspe.row-count", "test.flood"], capabilities.Components);
        Assert.Equal(["cohort", "small"], capabilities.Datasets);
        var record = (await node.RecordsAsync("federation.call", where: r => r.DetailsJson.Contains("GetCapabilities", StringComparison.Ordinal))).Last();
        var details = JsonDocument.Parse(record.DetailsJson).RootElement;
        Assert.Equal("node-b", details.GetProperty("peer").GetString());
        Assert.Equal("OK", details.GetProperty("status").GetString());
        Assert.Equal(node.PermitId, details.GetProperty("permit").GetString());
        Assert.Equal(64, details.GetProperty("certificate").GetString()!.Length);
    }

    [Theory]
    [Trait("Requirement", "TIR-30")]
    [Trait("Requirement", "TIR-31")]
    [Trait("Requirement", "TIR-34")]
    [InlineData("rogue", "not-issued-by-the-federation-ca")]
    [InlineData("node-revoked", "certificate-revoked")]
    [InlineData("node-expired", "certificate-not-valid-now")]
    [InlineData(null, "no-client-certificate")]
    [InlineData("node-c", "peer-not-on-allow-list")]
    [InlineData("names-disagree", "certificate-names-disagree")]
    [InlineData("two-names", "certificate-names-disagree")]
    public async Task A_peer_that_is_not_admitted_is_refused_at_the_handshake_and_audited(string? certificate, string reason)
    {
        var client = node.Client(certificate, out var channel);
        using var _ = channel;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline()));

        // Note: with TLS 1.3 the client may finish its side of the handshake before the node refuses its certificate, so the
        // refusal reaches it as the connection failing (UNAVAILABLE) or the call's stream breaking (INTERNAL); never an answer.
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        var records = await node.RecordsAsync("federation.peer.refused", where: r => r.DetailsJson.Contains(reason, StringComparison.Ordinal));
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.Equal("denied", r.Outcome));
        Assert.Contains("\"stage\":\"handshake\"", records[0].DetailsJson, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-34")]
    public async Task Repeated_refusals_of_one_peer_raise_a_security_alert()
    {
        for (var i = 0; i < 5; i++)
        {
            var client = node.Client("node-c", out var channel);
            using var _ = channel;
            await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline()));
        }

        var alerts = await node.RecordsAsync("security.alert", where: r => r.DetailsJson.Contains("federation-peer-refused-repeatedly", StringComparison.Ordinal));

        var alert = Assert.Single(alerts.Take(1));
        Assert.Equal("node-c", JsonDocument.Parse(alert.DetailsJson).RootElement.GetProperty("peer").GetString());
    }

    [Fact]
    [Trait("Requirement", "TIR-35")]
    public async Task A_call_without_a_deadline_is_refused()
    {
        var client = node.Client("node-b", out var channel);
        using var _ = channel;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.GetCapabilitiesAsync(new CapabilitiesRequest()));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.StartsWith(ErrorCodes.FederationDeadline, refused.Status.Detail, StringComparison.Ordinal);
    }
}
