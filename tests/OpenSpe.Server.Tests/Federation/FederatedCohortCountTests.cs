using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using OpenSpe.Federation.Omop;
using OpenSpe.Federation.V1;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// OMOP cohort counts over three real nodes through gRPC (the OMOP sample split over them, threshold 9): a node whose count is
/// below the threshold releases no count at all, what it sends a peer holds none, and the coordinator's answer says which nodes
/// suppressed and that the total is a lower bound made of released counts only.
/// </summary>
public sealed class FederatedCohortCountTests(OmopThreeNodeFixture nodes) : IClassFixture<OmopThreeNodeFixture>
{
    private const long ViralSinusitis = 40481087;

    [Fact]
    [Trait("Requirement", "FCR-1")]
    [Trait("Requirement", "FCR-6")]
    public async Task A_count_below_the_threshold_is_suppressed_at_its_node_and_the_answer_says_so()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/count", new { concept = ViralSinusitis });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var root = JsonDocument.Parse(body).RootElement;
        var cells = root.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!, n => Assert.Single(n.GetProperty("cells").EnumerateArray().ToList()));
        Assert.True(cells["node-a"].GetProperty("suppressed").GetBoolean());
        Assert.True(cells["node-c"].GetProperty("suppressed").GetBoolean());
        Assert.False(cells["node-b"].GetProperty("suppressed").GetBoolean());
        Assert.Equal(9, cells["node-b"].GetProperty("count").GetInt64());
        foreach (var suppressed in new[] { cells["node-a"], cells["node-c"] })
        {
            Assert.True(!suppressed.TryGetProperty("count", out var count) || count.ValueKind == JsonValueKind.Null, suppressed.GetRawText());
        }

        // The total is the released count only, and says it is a lower bound; the stratum says how many nodes suppressed.
        Assert.Equal(9, root.GetProperty("total").GetInt64());
        Assert.True(root.GetProperty("totalIsLowerBound").GetBoolean());
        var stratum = Assert.Single(root.GetProperty("strata").EnumerateArray().ToList());
        Assert.Equal(2, stratum.GetProperty("suppressedAtNodes").GetInt32());
        Assert.All(root.GetProperty("nodes").EnumerateArray(), n => Assert.Equal(OmopThreeNodeFixture.PermitThreshold, n.GetProperty("threshold").GetInt32()));
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    public async Task What_a_node_sends_a_peer_for_a_count_below_the_threshold_holds_no_count()
    {
        var client = nodes.PeerClient(nodes.C, "node-a", out var channel);
        using var _ = channel;
        var request = new TaskRequest
        {
            Permit = nodes.SignedPermit,
            Requester = "researcher",
            Component = CohortCountNodeAnalysis.ComponentName,
            ParametersJson = $$"""{"concept": {{ViralSinusitis}}}""",
        };

        var accepted = await client.SubmitTaskAsync(request, FederationNodeFixture.Deadline());
        using var watch = client.WatchTask(new WatchRequest { TaskId = accepted.TaskId }, FederationNodeFixture.Deadline());
        var events = new List<TaskEvent>();
        await foreach (var item in watch.ResponseStream.ReadAllAsync())
        {
            events.Add(item);
        }

        var done = events[^1];
        Assert.Equal("done", done.State);
        // node-c holds 8 persons with the concept; the wire carries only that the cell was suppressed, and the threshold.
        Assert.Equal($$"""{"cells":[{"suppressed":true}],"threshold":{{OmopThreeNodeFixture.PermitThreshold}}}""", done.ResultJson);
        Assert.All(events, e => Assert.DoesNotContain("8", e.Message, StringComparison.Ordinal));
    }
}
