using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Federation;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Api;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// A node revoked at the federation CA while the coordinator's connections to and from it are open (three nodes of their own,
/// since the revocations are not undone): the coordinator stops using its kept channel to a revoked peer, and a peer refuses a
/// revoked coordinator's next call over the connection that coordinator opened before.
/// </summary>
public sealed class RevokedPeerTests(ThreeNodeFixture nodes) : IClassFixture<ThreeNodeFixture>
{
    private const string Formula = "DIS_DIAB ~ PM_BMI_CONTINUOUS";

    [Fact]
    [Trait("Requirement", "TIR-30")]
    [Trait("Requirement", "TIR-31")]
    [Trait("Requirement", "FSPER-1")]
    public async Task A_node_revoked_after_a_GLM_opened_the_connections_takes_no_part_in_the_next_one()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        using (var first = await GlmAsync(researcher))
        {
            // The coordinator now keeps a channel, over an open connection, to node-b and to node-c.
            Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        }

        var callsAtC = (await ThreeNodeFixture.RecordsAsync(nodes.C, "federation.call")).Count;
        var channels = nodes.A.Server.Services.GetRequiredService<FederationPeerChannels>();
        var addressC = new Uri(nodes.A.Server.Services.GetRequiredService<IOptions<FederationOptions>>().Value.Peers.Single(p => p.Name == "node-c").Address);
        var keptToC = channels.Channel("node-c", addressC);
        Revoke("node-c");

        // The sweep (every Federation:StreamRecheckInterval) closes the kept channel without waiting for a next call, which
        // cancels a stream still open on it.
        channels.Sweep();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
            await new OpenSpe.Federation.V1.Federation.FederationClient(keptToC).GetCapabilitiesAsync(new OpenSpe.Federation.V1.CapabilitiesRequest(), deadline: DateTime.UtcNow.AddSeconds(30)));

        using (var second = await GlmAsync(researcher))
        {
            // node-a judges node-c's certificate again before using its kept channel, and the new handshake refuses it.
            var problem = await ProblemAssert.IsProblemAsync(second, HttpStatusCode.UnprocessableEntity);
            Assert.Equal(ErrorCodes.FederationPeerUnreachable, NodeCode(problem, "node-c"));
            Assert.DoesNotContain("coefficients", problem.GetRawText(), StringComparison.Ordinal);
        }

        Assert.Equal(callsAtC, (await ThreeNodeFixture.RecordsAsync(nodes.C, "federation.call")).Count);

        Revoke("node-a");

        using (var third = await GlmAsync(researcher))
        {
            // node-b admitted node-a at the handshake of the connection node-a still uses; it refuses the call all the same.
            var problem = await ProblemAssert.IsProblemAsync(third, HttpStatusCode.UnprocessableEntity);
            Assert.Equal(ErrorCodes.FederationPeerNotAdmitted, NodeCode(problem, "node-b"));
        }

        var refused = (await ThreeNodeFixture.RecordsAsync(nodes.B, FederationAudit.PeerRefused)).Select(r => JsonDocument.Parse(r.DetailsJson).RootElement).ToList();
        Assert.Contains(refused, d => d.GetProperty("peer").GetString() == "node-a" && d.GetProperty("reason").GetString() == PeerRefusalReasons.Revoked
            && d.GetProperty("stage").GetString() == "call");
    }

    private Task<HttpResponseMessage> GlmAsync(HttpClient researcher) =>
        researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = Formula, family = "binomial" });

    private void Revoke(string node)
    {
        using var ca = FederationCa.Open(nodes.CaDirectory);
        ca.Revoke(node, DateTimeOffset.UtcNow);
    }

    private static string? NodeCode(JsonElement problem, string node) =>
        problem.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == node) is var n && n.TryGetProperty("code", out var code)
            ? code.GetString()
            : null;
}
