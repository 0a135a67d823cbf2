using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Federation.Learning;
using OpenSpe.Server.Tests.Api;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// Federated learning between SPEs (FCR-8, FCR-9, TIR-28): FedAvg over real <c>Train</c> streams with mutual TLS, each node
/// charging its own ledger in its database, the coordinating SPE charging the run first, and every refusal where it belongs.
/// </summary>
/// <remarks>
/// Only <see cref="Training_charges_every_ledger_per_round_and_the_round_that_would_overspend_is_refused_by_the_coordinator_and_by_each_node"/>
/// spends the permit's budget; every other test is refused before any round, and checks that nothing was charged.
/// </remarks>
public sealed class FederatedTrainingTests(LearningThreeNodeFixture nodes) : IClassFixture<LearningThreeNodeFixture>
{
    // ρ per round = 2K²/σ² = 2 · 100² / 400000 = 0.05; the default budget (ε 3, δ 10⁻⁶) caps ρ at about 0.147, so two rounds fit and a third does not.
    private static readonly object Spec = new
    {
        formula = "DIS_DIAB ~ GENDER + PM_BMI_CONTINUOUS",
        rounds = 5,
        clipUnits = 100,
        granularity = 0.01,
        noiseVariance = "400000",
        scaling = new Dictionary<string, double[]> { ["PM_BMI_CONTINUOUS"] = [27, 5] },
    };

    private string Train => $"/api/v1/projects/{nodes.ProjectA}/federation/train";

    [Fact]
    [Trait("Requirement", "FCR-8")]
    [Trait("Requirement", "FCR-9")]
    [Trait("Requirement", "TIR-28")]
    [Trait("Requirement", "TIR-33")]
    public async Task Training_charges_every_ledger_per_round_and_the_round_that_would_overspend_is_refused_by_the_coordinator_and_by_each_node()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        using var first = await researcher.PostAsJsonAsync(Train, Spec);

        var body = await first.Content.ReadAsStringAsync();
        Assert.True(first.StatusCode == HttpStatusCode.OK, body);
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(["(Intercept)", "GENDER", "PM_BMI_CONTINUOUS"], root.GetProperty("coefficients").EnumerateObject().Select(c => c.Name));
        Assert.All(root.GetProperty("coefficients").EnumerateObject(), c => Assert.True(double.IsFinite(c.Value.GetDouble())));
        Assert.Equal(2, root.GetProperty("rounds").GetInt32());
        Assert.Equal(0.05, root.GetProperty("rhoPerRound").GetDouble(), 12);
        Assert.Equal("SPE7080", root.GetProperty("stopped").GetProperty("code").GetString());
        Assert.Equal(["node-a", "node-b", "node-c"], root.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
        Assert.All(root.GetProperty("nodes").EnumerateArray(), n => Assert.True(n.GetProperty("rows").GetInt32() > 1000));
        var privacy = root.GetProperty("privacy");
        Assert.Equal("HDAB-FED-2026-1", privacy.GetProperty("permit").GetString());
        Assert.Equal(0.1, privacy.GetProperty("coordinated").GetProperty("rho").GetDouble(), 12);
        Assert.Equal(0.1, privacy.GetProperty("mine").GetProperty("rho").GetDouble(), 12);
        Assert.Equal(0.1, privacy.GetProperty("thisNode").GetProperty("rho").GetDouble(), 12);
        Assert.Equal(0.0, privacy.GetProperty("thisNode").GetProperty("reservedRho").GetDouble());
        Assert.InRange(privacy.GetProperty("budget").GetProperty("rho").GetDouble(), 0.14, 0.15);
        // Each peer charged its own rows for both rounds, as its HDAB sees it.
        foreach (var peer in new[] { nodes.B, nodes.C })
        {
            Assert.Equal(0.1, (await HdabPrivacyAsync(peer)).GetProperty("thisNode").GetProperty("rho").GetDouble(), 12);
        }

        // The coordinator refuses the next run before asking any node: a 409, and no node charged more.
        using var second = await researcher.PostAsJsonAsync(Train, Spec);
        var refused = await ProblemAssert.IsProblemAsync(second, HttpStatusCode.Conflict);
        Assert.Equal("SPE7080", refused.GetProperty("code").GetString());
        Assert.Equal(0.1, (await HdabPrivacyAsync(nodes.B)).GetProperty("thisNode").GetProperty("rho").GetDouble(), 12);

        // A coordinator that does not check (here: a peer's own stream to node-b) meets node-b's own ledger, which refuses the round.
        var client = nodes.PeerClient(nodes.B, "node-a", out var channel);
        using (channel)
        {
            using var call = client.Train(deadline: DateTime.UtcNow.AddMinutes(1));
            await call.RequestStream.WriteAsync(Open(JsonSerializer.Serialize(Spec)));
            Assert.True(await call.ResponseStream.MoveNext());
            Assert.Equal("opened", call.ResponseStream.Current.Kind);
            var round = new TrainMessage { Kind = "round", Round = 1 };
            round.Parameters.AddRange(new double[call.ResponseStream.Current.Columns.Count]);
            await call.RequestStream.WriteAsync(round);
            var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
            Assert.Equal("SPE7080", ex.Trailers.GetValue("spe-code"));
        }

        Assert.Equal(0.1, (await HdabPrivacyAsync(nodes.B)).GetProperty("thisNode").GetProperty("rho").GetDouble(), 12);
        // The HDAB's list and portal page show the same spend.
        using (var hdab = await nodes.C.Server.ClientForAccountAsync("hdab"))
        {
            var listed = JsonDocument.Parse(await hdab.GetStringAsync("/api/v1/permits/privacy")).RootElement.EnumerateArray()
                .Single(p => p.GetProperty("privacy").GetProperty("permit").GetString() == "HDAB-FED-2026-1");
            Assert.Equal(0.1, listed.GetProperty("privacy").GetProperty("thisNode").GetProperty("rho").GetDouble(), 12);
            Assert.Equal(0.0, listed.GetProperty("privacy").GetProperty("coordinated").GetProperty("rho").GetDouble());
        }

        using (var portal = new Portal.PortalBrowser(nodes.A.Server))
        using (await portal.SignInAsync("hdab"))
        {
            using var page = await portal.GetAsync("/privacy");
            var html = WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());
            Assert.True(page.StatusCode == HttpStatusCode.OK, html);
            Assert.Contains("HDAB-FED-2026-1", html, StringComparison.Ordinal);
            Assert.Contains("(ρ 0.1)", html, StringComparison.Ordinal);
        }

        // Audited at both ends: the coordinator's record per node, and the peer's record of the stream with the requester.
        var sent = await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent);
        Assert.Contains(sent, r => r.DetailsJson.Contains("\"component\":\"openspe.fedavg-logistic\"", StringComparison.Ordinal)
            && r.DetailsJson.Contains("\"node\":\"node-c\"", StringComparison.Ordinal) && r.DetailsJson.Contains("2 rounds", StringComparison.Ordinal));
        var calls = await ThreeNodeFixture.RecordsAsync(nodes.C, "federation.call");
        Assert.Contains(calls, r => r.DetailsJson.Contains("Train", StringComparison.Ordinal) && r.DetailsJson.Contains("\"requester\":\"researcher\"", StringComparison.Ordinal));
    }

    [Theory]
    [Trait("Requirement", "FCR-9")]
    [InlineData("{}")]
    [InlineData("[1]")]
    [InlineData("{\"formula\":\"DIS_DIAB ~ GENDER\",\"noiseVariance\":\"400000\",\"rounds\":0}")]
    [InlineData("{\"formula\":\"DIS_DIAB ~ GENDER\",\"noiseVariance\":\"not a number\"}")]
    [InlineData("{\"formla\":\"DIS_DIAB ~ GENDER\",\"noiseVariance\":\"400000\"}")]
    public async Task A_malformed_training_request_is_a_400_and_no_node_is_asked(string json)
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        var before = (await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent)).Count;

        using var response = await researcher.PostAsync(Train, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("SPE7050", problem.GetProperty("code").GetString());
        Assert.Equal(before, (await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent)).Count);
    }

    [Theory]
    [Trait("Requirement", "FCR-3")]
    [InlineData("researcher2", "train", HttpStatusCode.NotFound)]
    [InlineData("holder", "train", HttpStatusCode.Forbidden)]
    [InlineData("hdab", "train", HttpStatusCode.NotFound)]
    [InlineData("researcher2", "privacy", HttpStatusCode.NotFound)]
    [InlineData("holder", "privacy", HttpStatusCode.Forbidden)]
    [InlineData("operator", "privacy", HttpStatusCode.NotFound)]
    public async Task A_non_member_or_a_member_in_another_role_can_neither_train_nor_read_the_spend(string username, string what, HttpStatusCode expected)
    {
        using var client = await nodes.A.Server.ClientForAccountAsync(username);
        var path = $"/api/v1/projects/{nodes.ProjectA}/federation/{what}";

        using var response = what == "train" ? await client.PostAsJsonAsync(path, Spec) : await client.GetAsync(path);

        var problem = await ProblemAssert.IsProblemAsync(response, expected);
        Assert.Equal(expected == HttpStatusCode.NotFound ? ErrorCodes.NotFound : ErrorCodes.Forbidden, problem.GetProperty("code").GetString());
    }

    [Theory]
    [Trait("Requirement", "FCR-9")]
    [InlineData("researcher", HttpStatusCode.Forbidden)]
    [InlineData("operator", HttpStatusCode.Forbidden)]
    [InlineData("auditor", HttpStatusCode.Forbidden)]
    public async Task Only_the_HDAB_reads_a_permits_spend_by_permit(string username, HttpStatusCode expected)
    {
        using var hdab = await nodes.A.Server.ClientForAccountAsync("hdab");
        var permitId = await PermitIdAsync(hdab);
        using var client = await nodes.A.Server.ClientForAccountAsync(username);

        using var response = await client.GetAsync($"/api/v1/permits/{permitId}/privacy");
        using var list = await client.GetAsync("/api/v1/permits/privacy");

        await ProblemAssert.IsProblemAsync(response, expected);
        await ProblemAssert.IsProblemAsync(list, expected);
        await ProblemAssert.IsProblemAsync(await hdab.GetAsync("/api/v1/permits/no-such-permit/privacy"), HttpStatusCode.NotFound);
    }

    [Fact]
    [Trait("Requirement", "FSPER-3")]
    [Trait("Requirement", "OPR-20")]
    public async Task A_project_halted_at_a_node_or_here_stops_training_before_any_round()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        var spentBefore = (await HdabPrivacyAsync(nodes.A)).GetProperty("coordinated").GetProperty("rho").GetDouble();
        using var operatorOnC = await nodes.C.Server.ClientForAccountAsync("operator");
        using var hdabOnC = await nodes.C.Server.ClientForAccountAsync("hdab");
        using (var halt = await operatorOnC.PostAsJsonAsync("/api/v1/halts", new { projectId = nodes.ProjectC, reason = "suspected exfiltration" }))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        try
        {
            using var response = await researcher.PostAsJsonAsync(Train, Spec);
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
            var nodeC = problem.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "node-c");
            Assert.Equal(ErrorCodes.FederationHalted, nodeC.GetProperty("code").GetString());
        }
        finally
        {
            using var resume = await hdabOnC.PostAsJsonAsync("/api/v1/halts/resume", new { projectId = nodes.ProjectC });
            Assert.True(resume.IsSuccessStatusCode, await resume.Content.ReadAsStringAsync());
        }

        using var operatorOnA = await nodes.A.Server.ClientForAccountAsync("operator");
        using var hdabOnA = await nodes.A.Server.ClientForAccountAsync("hdab");
        using (var halt = await operatorOnA.PostAsJsonAsync("/api/v1/halts", new { projectId = nodes.ProjectA, reason = "suspected exfiltration" }))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        try
        {
            using var response = await researcher.PostAsJsonAsync(Train, Spec);
            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Locked);
            Assert.Equal(ErrorCodes.ProjectHalted, problem.GetProperty("code").GetString());
        }
        finally
        {
            using var resume = await hdabOnA.PostAsJsonAsync("/api/v1/halts/resume", new { projectId = nodes.ProjectA });
            Assert.True(resume.IsSuccessStatusCode, await resume.Content.ReadAsStringAsync());
        }

        Assert.Equal(spentBefore, (await HdabPrivacyAsync(nodes.A)).GetProperty("coordinated").GetProperty("rho").GetDouble());
    }

    [Theory]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-9")]
    [InlineData("stranger", "{\"formula\":\"DIS_DIAB ~ GENDER\",\"noiseVariance\":\"400000\"}", "SPE7014")]
    [InlineData("researcher", "{\"formula\":\"DIS_DIAB ~ GENDER\"}", "SPE7050")]
    [InlineData("researcher", "{\"formula\":\"DIS_DIAB ~ NO_SUCH_COLUMN\",\"noiseVariance\":\"400000\"}", "SPE7051")]
    [InlineData("researcher", "not json", "SPE7050")]
    public async Task A_node_refuses_a_stream_that_opens_for_someone_outside_the_permit_without_noise_or_malformed(string requester, string parameters, string code)
    {
        var client = nodes.PeerClient(nodes.B, "node-a", out var channel);
        using (channel)
        {
            using var call = client.Train(deadline: DateTime.UtcNow.AddMinutes(1));
            await call.RequestStream.WriteAsync(Open(parameters, requester));

            var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());

            Assert.Equal(code, ex.Trailers.GetValue("spe-code"));
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-28")]
    public async Task A_stream_that_does_not_open_first_or_sends_a_round_of_the_wrong_length_is_refused()
    {
        var client = nodes.PeerClient(nodes.B, "node-a", out var channel);
        using (channel)
        {
            using (var call = client.Train(deadline: DateTime.UtcNow.AddMinutes(1)))
            {
                await call.RequestStream.WriteAsync(new TrainMessage { Kind = "round", Round = 1 });
                var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
                Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            }

            using (var call = client.Train(deadline: DateTime.UtcNow.AddMinutes(1)))
            {
                await call.RequestStream.WriteAsync(Open(JsonSerializer.Serialize(Spec)));
                Assert.True(await call.ResponseStream.MoveNext());
                var round = new TrainMessage { Kind = "round", Round = 1 };
                round.Parameters.AddRange([0.0]);
                await call.RequestStream.WriteAsync(round);
                var ex = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
                Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
                Assert.Equal("SPE7050", ex.Trailers.GetValue("spe-code"));
            }
        }
    }

    private TrainMessage Open(string parameters, string requester = "researcher") => new()
    {
        Kind = "open",
        Permit = nodes.SignedPermit,
        Requester = requester,
        Component = FedAvgComponent.ComponentName,
        ParametersJson = parameters,
    };

    /// <summary>The permit's spend as <paramref name="node"/>'s HDAB reads it.</summary>
    private static async Task<JsonElement> HdabPrivacyAsync(Permits.PermitFixture node)
    {
        using var hdab = await node.Server.ClientForAccountAsync("hdab");
        var permitId = await PermitIdAsync(hdab);
        using var response = await hdab.GetAsync($"/api/v1/permits/{permitId}/privacy");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<string> PermitIdAsync(HttpClient hdab)
    {
        var permits = JsonDocument.Parse(await hdab.GetStringAsync("/api/v1/permits")).RootElement;
        var list = permits.ValueKind == JsonValueKind.Array ? permits : permits.GetProperty("items");
        return list.EnumerateArray().Single(p => p.GetProperty("reference").GetString() == "HDAB-FED-2026-1").GetProperty("id").GetString()!;
    }
}
