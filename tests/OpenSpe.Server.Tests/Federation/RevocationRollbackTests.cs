using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Federation;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// A revocation list older than one the node accepted is refused, whatever came between (a garbage file, a restart), because
/// replaying an old list would let a revoked peer in again: every peer is refused until a list at least as new is in place.
/// </summary>
public sealed class RevocationRollbackTests
{
    [Fact]
    [Trait("Requirement", "TIR-30")]
    [Trait("Requirement", "TIR-31")]
    [Trait("Requirement", "FSPER-1")]
    public async Task An_old_list_copied_back_after_a_garbage_one_does_not_unrevoke_a_peer_and_is_audited_as_rolled_back()
    {
        // Arrange: node-b admitted under the list in place; that list kept aside; node-b revoked.
        await using var node = new FederationNodeFixture();
        await node.InitializeAsync();
        var crl = Path.Combine(node.CaDirectory, FederationCa.CrlFile);
        var old = await File.ReadAllTextAsync(crl, TestContext.Current.CancellationToken);
        Assert.Equal("node-a", (await CapabilitiesAsync(node)).Node);
        using (var ca = FederationCa.Open(node.CaDirectory))
        {
            ca.Revoke("node-b", DateTimeOffset.UtcNow);
        }

        Assert.Equal(PeerRefusalReasons.Revoked, await RefusalAsync(node));
        await File.WriteAllTextAsync(crl, "garbage\n", TestContext.Current.CancellationToken);
        Assert.Equal(PeerRefusalReasons.RevocationUnknown, await RefusalAsync(node));

        // Act: the old list, signed by the CA and current, but from before node-b's revocation.
        await File.WriteAllTextAsync(crl, old, TestContext.Current.CancellationToken);

        // Assert: node-b stays out (so does everyone), the refusal says why, and it is on record.
        Assert.Equal(PeerRefusalReasons.RevocationRolledBack, await RefusalAsync(node));
        var records = await node.RecordsAsync("federation.peer.refused", where: r => r.DetailsJson.Contains(PeerRefusalReasons.RevocationRolledBack, StringComparison.Ordinal));
        Assert.Contains(records, r => r.DetailsJson.Contains("node-b", StringComparison.Ordinal));
        Assert.Contains("rolled-back", node.Node.Server.Services.GetRequiredService<FederationRevocations>().Problem, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-31")]
    [Trait("Requirement", "FSPER-1")]
    public async Task A_node_restarted_with_an_older_list_than_it_accepted_before_refuses_every_peer()
    {
        // Arrange: a CA whose first list is kept aside, then a second list revoking node-b, which the node accepts.
        using var temp = new TempDirectory();
        var now = DateTimeOffset.UtcNow;
        var caDirectory = temp.File("ca");
        var certs = temp.File("certs");
        string old;
        using (var ca = FederationCa.Create(caDirectory, "test federation CA", now.AddDays(-1), TimeSpan.FromDays(400)))
        {
            foreach (var name in new[] { "node-a", "node-b", "node-c" })
            {
                ca.Issue(name, certs, now.AddDays(-1), now.AddDays(30)).Dispose();
            }

            old = await File.ReadAllTextAsync(ca.CrlPath, TestContext.Current.CancellationToken);
            ca.Revoke("node-b", now);
        }

        var server = temp.File("server");
        Directory.CreateDirectory(server);
        var settings = new Dictionary<string, string?>
        {
            ["Federation:Listen"] = "127.0.0.1:0",
            ["Federation:CaCertificate"] = Path.Combine(caDirectory, FederationCa.CertificateFile),
            ["Federation:Crl"] = Path.Combine(caDirectory, FederationCa.CrlFile),
            ["Federation:Certificate"] = Path.Combine(certs, "node-a.crt"),
            ["Federation:Key"] = Path.Combine(certs, "node-a.key"),
            ["Federation:AllowedPeers:0"] = "node-b",
            ["Federation:AllowedPeers:1"] = "node-c",
        };
        using var nodeB = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(certs, "node-b.crt"), TestContext.Current.CancellationToken));
        using var nodeC = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(certs, "node-c.crt"), TestContext.Current.CancellationToken));
        await using (var first = await SpeTestServer.StartAsync(settings: settings, reuseDirectory: server))
        {
            var admission = first.Services.GetRequiredService<FederationPeerAdmission>();
            Assert.Equal(PeerRefusalReasons.Revoked, admission.Admit(nodeB).Refusal);
            Assert.True(admission.Admit(nodeC).Admitted);
        }

        // Act: the node restarts on the same data directory, with the older list (from before node-b's revocation) in place.
        await File.WriteAllTextAsync(Path.Combine(caDirectory, FederationCa.CrlFile), old, TestContext.Current.CancellationToken);
        await using var second = await SpeTestServer.StartAsync(settings: settings, reuseDirectory: server);

        // Assert: refused as rolled back, node-b and every other peer alike.
        var again = second.Services.GetRequiredService<FederationPeerAdmission>();
        Assert.Equal(PeerRefusalReasons.RevocationRolledBack, again.Admit(nodeB).Refusal);
        Assert.Equal(PeerRefusalReasons.RevocationRolledBack, again.Admit(nodeC).Refusal);
    }

    private static async Task<Capabilities> CapabilitiesAsync(FederationNodeFixture node)
    {
        var client = node.Client("node-b", out var channel);
        using var _ = channel;
        return await client.GetCapabilitiesAsync(new CapabilitiesRequest(), FederationNodeFixture.Deadline());
    }

    /// <summary>The reason node-b is refused now, on a new connection (its handshake admits it or not, then the call does).</summary>
    private static async Task<string> RefusalAsync(FederationNodeFixture node)
    {
        await Assert.ThrowsAsync<RpcException>(() => CapabilitiesAsync(node));
        var admission = node.Node.Server.Services.GetRequiredService<FederationPeerAdmission>();
        using var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(node.CaDirectory)!, "certs", "node-b.crt")));
        return admission.Admit(certificate).Refusal ?? "admitted";
    }
}
