using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Federation.Learning;
using OpenSpe.Server.Tests.Federation;
using static OpenSpe.Server.Tests.Monitoring.MetricsEndpointTests;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// The calls a coordinating node makes to its peers are counted per peer too (TIR-34) and their stream messages audited one by
/// one at both ends (TIR-33): after a real federated training run over mTLS between three SPEs, node-a's operator reads, per
/// peer, the <c>Train</c> streams it opened with their status and duration and the bytes it sent and received — the same bytes
/// each peer counted as received from and sent to node-a — both audit logs hold each message in order with its size, and a stream a
/// halted peer refused is counted under that peer with the refusal's status; a GLM's unary tasks and watch streams likewise.
/// </summary>
[Collection(MetricsSerial.Name)]
public sealed class FederationClientMetricsTests(LearningThreeNodeFixture nodes) : IClassFixture<LearningThreeNodeFixture>
{
    private const string Train = "/openspe.federation.v1.Federation/Train";
    private const string Submit = "/openspe.federation.v1.Federation/SubmitTask";
    private const string Watch = "/openspe.federation.v1.Federation/WatchTask";

    private static readonly object Spec = new
    {
        formula = "DIS_DIAB ~ GENDER + PM_BMI_CONTINUOUS",
        rounds = 2,
        clipUnits = 100,
        granularity = 0.01,
        noiseVariance = "400000",
        scaling = new Dictionary<string, double[]> { ["PM_BMI_CONTINUOUS"] = [27, 5] },
    };

    [Fact]
    [Trait("Requirement", "TIR-34")]
    [Trait("Requirement", "TIR-33")]
    public async Task The_coordinators_calls_to_each_peer_are_counted_and_audited_message_by_message_as_each_peer_saw_them()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        using var operatorOnA = await nodes.A.Server.ClientForAccountAsync("operator");
        // Note: each peer's own count is read from its own meter (selected by its host's meter factory), because every test
        // server in this process exports every meter of the same name at /metrics (MetricsSerial), so a peer's /metrics would
        // show both peers' bytes.
        using var atPeers = new PeerBytes(new()
        {
            [nodes.B.Server.Services.GetRequiredService<IMeterFactory>()] = "node-b",
            [nodes.C.Server.Services.GetRequiredService<IMeterFactory>()] = "node-c",
        });
        var beforeA = await ScrapeAsync(operatorOnA);
        var since = new Dictionary<string, long> { ["node-a"] = await LastSequenceAsync(nodes.A), ["node-b"] = await LastSequenceAsync(nodes.B), ["node-c"] = await LastSequenceAsync(nodes.C) };

        using (var run = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/train", Spec, TestContext.Current.CancellationToken))
        {
            Assert.True(run.StatusCode == HttpStatusCode.OK, await run.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        var afterA = await ScrapeAsync(operatorOnA);
        foreach (var peer in new[] { "node-b", "node-c" })
        {
            Assert.Equal(1, Sum(afterA, "openspe_federation_client_calls_total", ("peer", peer), ("method", Train), ("status", "OK"))
                - Sum(beforeA, "openspe_federation_client_calls_total", ("peer", peer), ("method", Train), ("status", "OK")));
            Assert.Equal(1, Sum(afterA, "openspe_federation_client_call_duration_seconds_count", ("peer", peer), ("method", Train))
                - Sum(beforeA, "openspe_federation_client_call_duration_seconds_count", ("peer", peer), ("method", Train)));
            foreach (var (ours, theirs) in new[] { ("sent", "received"), ("received", "sent") })
            {
                var counted = Sum(afterA, "openspe_federation_client_bytes_total", ("peer", peer), ("method", Train), ("direction", ours))
                    - Sum(beforeA, "openspe_federation_client_bytes_total", ("peer", peer), ("method", Train), ("direction", ours));
                Assert.True(counted > 0, $"node-a counted no bytes {ours} to {peer}");
                Assert.Equal(atPeers.Of(peer, theirs), counted);
            }
        }

        // Every stream message is on record at both ends, in order, with the same size: what node-a sent is what the peer read.
        foreach (var (peer, node) in new[] { ("node-b", nodes.B), ("node-c", nodes.C) })
        {
            var ours = await MessagesAsync(nodes.A, since["node-a"], peer);
            var theirs = await MessagesAsync(node, since[peer], "node-a");
            foreach (var (mine, its) in new[] { ("sent", "received"), ("received", "sent") })
            {
                var sequence = ours.Where(m => m.Direction == mine).Select(m => (m.Index, m.Bytes)).ToList();
                Assert.NotEmpty(sequence);
                Assert.Equal(Enumerable.Range(1, sequence.Count).Select(i => (long)i), sequence.Select(m => m.Index));
                Assert.Equal(sequence, theirs.Where(m => m.Direction == its).Select(m => (m.Index, m.Bytes)));
            }

            Assert.All(ours, m => Assert.Equal(("researcher", FedAvgComponent.ComponentName, nodes.ProjectA), (m.Requester, m.Component, m.Project)));
            Assert.Equal("researcher", theirs[^1].Requester);
        }

        // A GLM's rounds are unary SubmitTask calls and WatchTask streams, each counted when it ends.
        var beforeGlm = afterA;
        using (var glm = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = "DIS_DIAB ~ GENDER", family = "binomial" },
            TestContext.Current.CancellationToken))
        {
            Assert.True(glm.StatusCode == HttpStatusCode.OK, await glm.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        afterA = await ScrapeAsync(operatorOnA);
        foreach (var (peer, method) in new[] { ("node-b", Submit), ("node-b", Watch), ("node-c", Submit), ("node-c", Watch) })
        {
            Assert.True(Sum(afterA, "openspe_federation_client_calls_total", ("peer", peer), ("method", method), ("status", "OK"))
                > Sum(beforeGlm, "openspe_federation_client_calls_total", ("peer", peer), ("method", method), ("status", "OK")), $"{method} to {peer} counted");
            Assert.True(Sum(afterA, "openspe_federation_client_bytes_total", ("peer", peer), ("method", method), ("direction", "received"))
                > Sum(beforeGlm, "openspe_federation_client_bytes_total", ("peer", peer), ("method", method), ("direction", "received")), $"{method} answers from {peer} counted");
        }

        // node-a runs its own share in process: it never calls itself over the network.
        Assert.DoesNotContain("peer=\"node-a\"", string.Join('\n', afterA.Split('\n').Where(l => l.StartsWith("openspe_federation_client_", StringComparison.Ordinal))),
            StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-34")]
    public async Task A_stream_a_halted_peer_refuses_is_counted_under_that_peer_with_its_status()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        using var operatorOnA = await nodes.A.Server.ClientForAccountAsync("operator");
        using var operatorOnC = await nodes.C.Server.ClientForAccountAsync("operator");
        using var hdabOnC = await nodes.C.Server.ClientForAccountAsync("hdab");
        var before = await ScrapeAsync(operatorOnA);
        using (var halt = await operatorOnC.PostAsJsonAsync("/api/v1/halts", new { projectId = nodes.ProjectC, reason = "suspected exfiltration" }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        try
        {
            using var run = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/train", Spec, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, run.StatusCode);
        }
        finally
        {
            using var resume = await hdabOnC.PostAsJsonAsync("/api/v1/halts/resume", new { projectId = nodes.ProjectC }, TestContext.Current.CancellationToken);
            Assert.True(resume.IsSuccessStatusCode, await resume.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        var after = await ScrapeAsync(operatorOnA);
        double Delta(params (string, string)[] labels) =>
            Sum(after, "openspe_federation_client_calls_total", labels) - Sum(before, "openspe_federation_client_calls_total", labels);
        Assert.Equal(1, Delta(("peer", "node-c"), ("method", Train), ("status", "FailedPrecondition")));
        Assert.Equal(0, Delta(("peer", "node-c"), ("method", Train), ("status", "OK")));
    }

    private static async Task<long> LastSequenceAsync(Permits.PermitFixture node) =>
        (await node.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery())).LastOrDefault()?.Sequence ?? 0;

    /// <summary>The <c>Train</c> stream messages exchanged with <paramref name="peer"/> on record at <paramref name="node"/> after <paramref name="after"/>.</summary>
    private static async Task<List<(string Direction, long Index, long Bytes, string? Requester, string? Component, string? Project)>> MessagesAsync(
        Permits.PermitFixture node, long after, string peer) =>
        [.. (await ThreeNodeFixture.RecordsAsync(node, FederationAudit.StreamMessage)).Where(r => r.Sequence > after)
            .Select(r => (Row: r, Details: JsonDocument.Parse(r.DetailsJson!).RootElement))
            .Where(r => r.Details.GetProperty("peer").GetString() == peer && r.Details.GetProperty("method").GetString() == Train)
            .Select(r => (r.Details.GetProperty("direction").GetString()!, long.Parse(r.Details.GetProperty("message").GetString()!, CultureInfo.InvariantCulture),
                long.Parse(r.Details.GetProperty("bytes").GetString()!, CultureInfo.InvariantCulture), Text(r.Details, "requester"), Text(r.Details, "component"),
                r.Row.ProjectId))];

    private static string? Text(JsonElement details, string name) => details.TryGetProperty(name, out var value) ? value.GetString() : null;

    /// <summary>The <c>Train</c> bytes each peer's own meter counted for node-a, by direction.</summary>
    private sealed class PeerBytes : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<(string Node, string Direction), long> _bytes = new();

        public PeerBytes(Dictionary<IMeterFactory, string> peers)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "openspe.federation.bytes" && instrument.Meter.Scope is IMeterFactory scope && peers.TryGetValue(scope, out var node))
                {
                    listener.EnableMeasurementEvents(instrument, node);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, state) =>
            {
                string? peer = null, method = null, direction = null;
                foreach (var tag in tags)
                {
                    (peer, method, direction) = tag.Key switch
                    {
                        "peer" => (tag.Value as string, method, direction),
                        "method" => (peer, tag.Value as string, direction),
                        "direction" => (peer, method, tag.Value as string),
                        _ => (peer, method, direction),
                    };
                }

                if (peer == "node-a" && method == Train && direction is not null)
                {
                    _bytes.AddOrUpdate(((string)state!, direction), value, (_, sum) => sum + value);
                }
            });
            _listener.Start();
        }

        public double Of(string node, string direction) => _bytes.GetValueOrDefault((node, direction));

        public void Dispose() => _listener.Dispose();
    }
}
