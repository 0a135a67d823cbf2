using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Federation.Glm;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// The researcher's federated analyses through the real gRPC path: three SPEs on loopback with mutual TLS, the CNSIM golden
/// GLM, a trap that withholds everything, refusals that name the node, and the coordinator's endpoint refusing what it must.
/// </summary>
public sealed class FederatedAnalysisTests(ThreeNodeFixture nodes) : IClassFixture<ThreeNodeFixture>
{
    private const string CnsimFormula = "DIS_DIAB ~ GENDER*PM_BMI_CONTINUOUS + LAB_HDL";

    [Fact]
    [Trait("Requirement", "FSPER-3")]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "TIR-31")]
    public async Task A_node_of_the_permit_holding_its_JWS_cannot_run_the_GLM_at_the_node_that_coordinates_it()
    {
        // The review's repro: node-a's own permit (its HDAB signed it), node-b on node-a's allow-list and holding the JWS (it
        // imported it), asking node-a for a GLM round on node-a's data in a data user's name.
        var client = nodes.PeerClient(nodes.A, "node-b", out var channel);
        using var _ = channel;
        var sandbox = nodes.A.Server.Services.GetRequiredService<FederatedComponentSandbox>();
        var started = sandbox.Started;
        var request = new OpenSpe.Federation.V1.TaskRequest
        {
            Permit = nodes.SignedPermit,
            Requester = "researcher",
            Component = GlmNodeAnalysis.ComponentName,
            ParametersJson = JsonSerializer.Serialize(new { formula = CnsimFormula, family = "binomial" }),
        };

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.SubmitTaskAsync(request, FederationNodeFixture.Deadline()));

        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Equal(ErrorCodes.FederationNotCoordinator, refused.Trailers.GetValue("spe-code"));
        Assert.Equal(started, sandbox.Started);
        var records = await ThreeNodeFixture.RecordsAsync(nodes.A, "federation.call");
        Assert.Contains(records, r => r.Outcome == "denied" && r.DetailsJson.Contains(ErrorCodes.FederationNotCoordinator, StringComparison.Ordinal)
            && r.DetailsJson.Contains("\"peer\":\"node-b\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    [Trait("Requirement", "FCR-5")]
    [Trait("Requirement", "FCR-6")]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "TIR-32")]
    [Trait("Requirement", "TIR-33")]
    public async Task The_CNSIM_GLM_over_three_nodes_through_gRPC_gives_DataSHIELDs_published_numbers_and_is_audited_at_both_ends()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = CnsimFormula, family = "binomial" });
        var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        // A figure for bench/README.md, not an assertion: rounds and wall time over three loopback nodes.
        TestContext.Current.TestOutputHelper?.WriteLine($"CNSIM GLM over 3 nodes: {JsonDocument.Parse(body).RootElement.GetProperty("iterations").GetInt32()} rounds in {took.TotalMilliseconds:F0} ms");
        var root = JsonDocument.Parse(body).RootElement;
        Assert.Equal(7485, root.GetProperty("nValid").GetInt32());
        Assert.Equal(1894, root.GetProperty("nMissing").GetInt32());
        Assert.Equal(7480, root.GetProperty("df").GetInt32());
        var deviance = root.GetProperty("deviance").GetDouble();
        Assert.True(Math.Abs(deviance - 1036.031) / 1036.031 <= 1e-5, $"deviance {deviance}");
        (string Term, double Estimate, double Se)[] readme =
        [
            ("(Intercept)", -6.7426367, 0.8926111),
            ("GENDER", -0.3575652, 1.3498341),
            ("PM_BMI_CONTINUOUS", 0.1306358, 0.0256571),
            ("LAB_HDL", -0.7734085, 0.2214787),
            ("GENDER:PM_BMI_CONTINUOUS", -0.0009481, 0.0442278),
        ];
        var coefficients = root.GetProperty("coefficients");
        Assert.Equal(readme.Select(r => r.Term), coefficients.EnumerateObject().Select(c => c.Name));
        foreach (var (term, estimate, se) in readme)
        {
            var c = coefficients.GetProperty(term);
            Assert.True(Math.Abs(c.GetProperty("estimate").GetDouble() - estimate) <= 1e-6, $"{term} estimate");
            Assert.True(Math.Abs(c.GetProperty("se").GetDouble() - se) <= 1e-6, $"{term} se");
        }

        var perNode = root.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!, n => n.GetProperty("nValid").GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["node-a"] = 1732, ["node-b"] = 2432, ["node-c"] = 3321 }, perNode);
        var iterations = root.GetProperty("iterations").GetInt32();
        // Each round is one task per node: audited where it was sent (node-a, for all three) and where it ran (the peers).
        var sent = await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent);
        Assert.True(sent.Count(r => r.DetailsJson.Contains("\"node\":\"node-b\"", StringComparison.Ordinal)) >= iterations);
        Assert.All(sent, r => Assert.Contains("\"requester\":\"researcher\"", r.DetailsJson, StringComparison.Ordinal));
        foreach (var peer in new[] { nodes.B, nodes.C })
        {
            var calls = await ThreeNodeFixture.RecordsAsync(peer, "federation.call");
            Assert.True(calls.Count(r => r.DetailsJson.Contains("SubmitTask", StringComparison.Ordinal) && r.DetailsJson.Contains("\"peer\":\"node-a\"", StringComparison.Ordinal)
                && r.DetailsJson.Contains("\"requester\":\"researcher\"", StringComparison.Ordinal)) >= iterations);
        }
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    public async Task Each_node_decrypts_its_data_once_per_analysis_and_the_copy_goes_on_halt_and_when_idle()
    {
        var all = new[] { nodes.A, nodes.B, nodes.C };
        var copies = all.Select(n => n.Server.Services.GetRequiredService<DecryptedCopies>()).ToArray();
        var before = copies.Select(c => c.Made).ToArray();
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = CnsimFormula, family = "binomial" });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("iterations").GetInt32() > 1);
        // One decryption per node for all the rounds, and the copy is kept for the analysis's next round.
        Assert.Equal(before.Select(b => b + 1), copies.Select(c => c.Made));
        Assert.All(copies, c => Assert.True(c.Held >= 1));

        using var operatorOnC = await nodes.C.Server.ClientForAccountAsync("operator");
        using var hdabOnC = await nodes.C.Server.ClientForAccountAsync("hdab");
        using (var halt = await operatorOnC.PostAsJsonAsync("/api/v1/halts", new { projectId = nodes.ProjectC, reason = "plaintext must go" }))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        Assert.Equal(0, copies[2].Held);
        // The halt stopped node-c's sandboxes and removed its staged plaintext.
        Assert.False(nodes.C.Server.Services.GetRequiredService<OpenSpe.Workspaces.IPlaintextStaging>().IsStaged(nodes.ProjectC));
        using (var resume = await hdabOnC.PostAsJsonAsync("/api/v1/halts/resume", new { projectId = nodes.ProjectC }))
        {
            Assert.True(resume.IsSuccessStatusCode, await resume.Content.ReadAsStringAsync());
        }

        foreach (var node in all)
        {
            var idle = node.Server.Services.GetRequiredService<IOptions<FederationOptions>>().Value.DecryptedCopyIdle;
            node.Clock.Advance(idle + TimeSpan.FromSeconds(1));
        }

        Assert.All(copies, c => Assert.Equal(0, c.Held));
        Assert.False(nodes.A.Server.Services.GetRequiredService<OpenSpe.Workspaces.IPlaintextStaging>().IsStaged(nodes.ProjectA));
        foreach (var node in all)
        {
            var work = node.Server.Services.GetRequiredService<DataDirectory>().File("federation-work");
            Assert.Empty(Directory.Exists(work) ? Directory.GetFileSystemEntries(work) : []);
        }
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    [Trait("Requirement", "FCR-5")]
    public async Task A_GLMs_rounds_at_a_node_share_one_runner_in_the_sandbox_which_a_halt_kills_and_idleness_ends()
    {
        var all = new[] { nodes.A, nodes.B, nodes.C };
        // Runners that earlier analyses of this fixture left waiting for a next round go first, so this analysis can keep its own.
        foreach (var node in all)
        {
            node.Clock.Advance(node.Server.Services.GetRequiredService<IOptions<FederationOptions>>().Value.DecryptedCopyIdle + TimeSpan.FromSeconds(1));
        }

        var sandboxes = all.Select(n => n.Server.Services.GetRequiredService<FederatedComponentSandbox>()).ToArray();
        var copies = all.Select(n => n.Server.Services.GetRequiredService<DecryptedCopies>()).ToArray();
        Assert.All(copies, c => Assert.Empty(c.Runners));
        Assert.All(sandboxes, s => Assert.Equal(0, s.Running));
        var before = sandboxes.Select(s => s.Started).ToArray();
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = CnsimFormula, family = "binomial" });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("iterations").GetInt32() > 1);
        // One runner started per node for all the rounds, still running for the analysis's next round.
        Assert.Equal(before.Select(b => b + 1), sandboxes.Select(s => s.Started));
        var runners = copies.Select(c => Assert.Single(c.Runners)).ToArray();
        Assert.All(runners, r => Assert.False(r.Exited.IsCompleted));
        Assert.All(sandboxes, s => Assert.Equal(1, s.Running));

        using var operatorOnC = await nodes.C.Server.ClientForAccountAsync("operator");
        using var hdabOnC = await nodes.C.Server.ClientForAccountAsync("hdab");
        using (var halt = await operatorOnC.PostAsJsonAsync("/api/v1/halts", new { projectId = nodes.ProjectC, reason = "the runner must die" }))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        try
        {
            // The halt killed node-c's runner (its sandbox); the other nodes' runners wait on.
            var exit = await runners[2].Exited.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.NotNull(exit.StoppedBy);
            Assert.Empty(copies[2].Runners);
            Assert.Equal(0, sandboxes[2].Running);
            Assert.False(runners[0].Exited.IsCompleted);
        }
        finally
        {
            using var resume = await hdabOnC.PostAsJsonAsync("/api/v1/halts/resume", new { projectId = nodes.ProjectC });
            Assert.True(resume.IsSuccessStatusCode, await resume.Content.ReadAsStringAsync());
        }

        foreach (var node in all)
        {
            node.Clock.Advance(node.Server.Services.GetRequiredService<IOptions<FederationOptions>>().Value.DecryptedCopyIdle + TimeSpan.FromSeconds(1));
        }

        // Idle for longer than the session's copy may wait: the runners went with the copies.
        foreach (var runner in runners)
        {
            await runner.Exited.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        Assert.All(copies, c => Assert.Empty(c.Runners));
        Assert.All(sandboxes, s => Assert.Equal(0, s.Running));
    }

    [Fact]
    [Trait("Requirement", "FSPER-4")]
    public async Task A_round_refused_at_a_node_ends_that_nodes_runner_with_its_session()
    {
        var all = new[] { nodes.A, nodes.B, nodes.C };
        foreach (var node in all)
        {
            node.Clock.Advance(node.Server.Services.GetRequiredService<IOptions<FederationOptions>>().Value.DecryptedCopyIdle + TimeSpan.FromSeconds(1));
        }

        var copies = all.Select(n => n.Server.Services.GetRequiredService<DecryptedCopies>()).ToArray();
        var sandboxes = all.Select(n => n.Server.Services.GetRequiredService<FederatedComponentSandbox>()).ToArray();
        Assert.All(sandboxes, s => Assert.Equal(0, s.Running));
        var sandboxA = sandboxes[0];
        var before = sandboxA.Started;
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        // Note: DIS_AMI is 1 in only 2 complete rows of CNSIM1 (node-a): its runner answers round 1 with a trap's refusal.
        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = "DIS_DIAB ~ DIS_AMI", family = "binomial" });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(before + 1, sandboxA.Started);
        var status = problem.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!, n => n.GetProperty("status").GetString());
        Assert.Equal("refused", status["node-a"]);
        // A node that refused keeps no runner; one that answered keeps its runner for a next round until its copy goes.
        foreach (var (node, i) in new[] { ("node-a", 0), ("node-b", 1), ("node-c", 2) })
        {
            Assert.Equal(status[node] == "refused" ? 0 : 1, copies[i].Runners.Count);
            Assert.Equal(status[node] == "refused" ? 0 : 1, sandboxes[i].Running);
        }
    }

    [Fact]
    [Trait("Requirement", "FCR-6")]
    [Trait("Requirement", "FSPER-5")]
    public async Task A_trap_that_fires_at_one_node_withholds_everything_and_the_answer_names_that_node()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        // Note: DIS_AMI is 1 in only 2 complete rows of CNSIM1 (node-a), below DataSHIELD's nfilter.tab of 3.
        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = "DIS_DIAB ~ DIS_AMI", family = "binomial" });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(ErrorCodes.FederatedAnalysisNodeRefused, problem.GetProperty("code").GetString());
        var refused = problem.GetProperty("nodes").EnumerateArray().Where(n => n.GetProperty("status").GetString() == "refused").ToList();
        Assert.Contains(refused, n => n.GetProperty("name").GetString() == "node-a");
        Assert.All(refused, n => Assert.Equal(ErrorCodes.FederatedAnalysisDisclosureTrap, n.GetProperty("code").GetString()));
        Assert.Contains("node-a: SPE7052", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var text = problem.GetRawText();
        foreach (var withheld in new[] { "coefficients", "information", "score", "deviance", "estimate" })
        {
            Assert.DoesNotContain(withheld, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FSPER-3")]
    public async Task A_component_one_nodes_operator_does_not_allow_is_refused_naming_that_node()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/count", new { concept = 40481087, descendants = true });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        var c = problem.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "node-c");
        Assert.Equal("refused", c.GetProperty("status").GetString());
        Assert.Equal(ErrorCodes.FederationComponentNotAllowed, c.GetProperty("code").GetString());
        Assert.Contains("node-c: SPE7017", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "FCR-3")]
    [Trait("Requirement", "FCR-4")]
    public async Task A_permit_approving_another_build_of_the_GLM_is_refused_by_the_coordinator_and_the_peer_naming_each_and_nothing_runs()
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-FED-2026-OTHER-BUILD", "researcher");
        document["datasets"] = new object[]
        {
            new { id = "other1", title = "Other build site 1", holder = "holder" },
            new { id = "other2", title = "Other build site 2", holder = "holder", node = "node-b" },
        };
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            approvedComponents = new[] { ApprovedComponent.Other(GlmNodeAnalysis.ComponentName) },
        };
        var (permitId, projectA) = await nodes.A.IssueAsync(document);
        using (var hdab = await nodes.A.Server.ClientForAccountAsync("hdab"))
        {
            await ThreeNodeFixture.ImportAsync(nodes.B, (await hdab.GetStringAsync($"/api/v1/permits/{permitId}/document")).Trim().Trim('"'));
        }

        var sandboxes = new[] { nodes.A, nodes.B }.Select(n => n.Server.Services.GetRequiredService<FederatedComponentSandbox>()).ToList();
        var started = sandboxes.Select(s => s.Started).ToList();
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{projectA}/federation/glm", new { formula = CnsimFormula, family = "binomial" });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        foreach (var name in new[] { "node-a", "node-b" })
        {
            var refused = problem.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == name);
            Assert.Equal("refused", refused.GetProperty("status").GetString());
            Assert.Equal(ErrorCodes.FederationComponentIdentityMismatch, refused.GetProperty("code").GetString());
            Assert.Contains($"{name}: {ErrorCodes.FederationComponentIdentityMismatch}", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Refused before anything ran: no runner started at either node, and each refusal is in the audit where it was made.
        Assert.Equal(started, sandboxes.Select(s => s.Started).ToList());
        var sent = await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent);
        Assert.Contains(sent, r => r.Outcome == "denied" && r.DetailsJson.Contains("\"node\":\"node-a\"", StringComparison.Ordinal)
            && r.DetailsJson.Contains(ErrorCodes.FederationComponentIdentityMismatch, StringComparison.Ordinal));
        var calls = await ThreeNodeFixture.RecordsAsync(nodes.B, "federation.call");
        Assert.Contains(calls, r => r.Outcome == "denied" && r.DetailsJson.Contains("\"peer\":\"node-a\"", StringComparison.Ordinal)
            && r.DetailsJson.Contains(ErrorCodes.FederationComponentIdentityMismatch, StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "FSPER-3")]
    [Trait("Requirement", "FSPER-4")]
    public async Task A_project_halted_at_one_node_stops_the_analysis_naming_that_node()
    {
        using var operatorOnC = await nodes.C.Server.ClientForAccountAsync("operator");
        using var hdabOnC = await nodes.C.Server.ClientForAccountAsync("hdab");
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        using (var halt = await operatorOnC.PostAsJsonAsync("/api/v1/halts", new { projectId = nodes.ProjectC, reason = "suspected exfiltration" }))
        {
            Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        }

        try
        {
            using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula = CnsimFormula, family = "binomial" });

            var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
            var c = problem.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("name").GetString() == "node-c");
            Assert.Equal(ErrorCodes.FederationHalted, c.GetProperty("code").GetString());
            Assert.DoesNotContain("coefficients", problem.GetRawText(), StringComparison.Ordinal);
        }
        finally
        {
            using var resume = await hdabOnC.PostAsJsonAsync("/api/v1/halts/resume", new { projectId = nodes.ProjectC });
            Assert.True(resume.IsSuccessStatusCode, await resume.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [Trait("Requirement", "FCR-3")]
    [InlineData("researcher2", "glm", HttpStatusCode.NotFound)]
    [InlineData("holder", "glm", HttpStatusCode.Forbidden)]
    [InlineData("holder", "count", HttpStatusCode.Forbidden)]
    [InlineData("hdab", "glm", HttpStatusCode.NotFound)]
    public async Task A_non_member_or_a_member_in_another_role_cannot_run_a_federated_analysis(string username, string analysis, HttpStatusCode expected)
    {
        using var client = await nodes.A.Server.ClientForAccountAsync(username);
        var before = (await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent)).Count;
        object body = analysis == "glm" ? new { formula = CnsimFormula, family = "binomial" } : new { concept = 40481087 };

        using var response = await client.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/{analysis}", body);

        var problem = await ProblemAssert.IsProblemAsync(response, expected);
        // Note: refused by the access chain at the gate (its codes), not by a later step of the coordinator.
        Assert.Equal(expected == HttpStatusCode.NotFound ? ErrorCodes.NotFound : ErrorCodes.Forbidden, problem.GetProperty("code").GetString());
        Assert.Equal(before, (await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent)).Count);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task A_caller_that_asks_for_lines_sees_each_nodes_answer_as_it_comes_then_the_result_or_the_problem()
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");

        var glm = await LinesAsync(researcher, "glm", new { formula = CnsimFormula, family = "binomial" });
        var count = await LinesAsync(researcher, "count", new { concept = 40481087 });

        // Every round of the GLM is one answer per node, in the order they came, before the one result line.
        var rounds = glm[^1].GetProperty("result").GetProperty("iterations").GetInt32();
        Assert.Equal("result", glm[^1].GetProperty("event").GetString());
        Assert.Equal(rounds * 3, glm.Count - 1);
        Assert.All(glm[..^1], l => Assert.Equal(("node", "ok"), (l.GetProperty("event").GetString(), l.GetProperty("status").GetString())));
        Assert.Equal(Enumerable.Range(1, rounds), glm[..^1].Where(l => l.GetProperty("node").GetString() == "node-b").Select(l => l.GetProperty("round").GetInt32()));
        // node-c's operator does not allow the count: its refusal is a line, and the last line the problem naming it.
        Assert.Contains(count, l => l.GetProperty("event").GetString() == "node" && l.GetProperty("node").GetString() == "node-c"
            && l.GetProperty("status").GetString() == "refused" && l.GetProperty("code").GetString() == ErrorCodes.FederationComponentNotAllowed);
        var problem = count[^1].GetProperty("problem");
        Assert.Equal(ErrorCodes.FederatedAnalysisNodeRefused, problem.GetProperty("code").GetString());
        Assert.Equal(422, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
    }

    /// <summary>Posts asking for progress lines; the lines, checked to come as application/x-ndjson with 200.</summary>
    private async Task<List<JsonElement>> LinesAsync(HttpClient client, string analysis, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/projects/{nodes.ProjectA}/federation/{analysis}") { Content = JsonContent.Create(body) };
        request.Headers.Accept.ParseAdd("application/x-ndjson");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    [Theory]
    [InlineData("DIS_DIAB ~ log(LAB_HDL)", "binomial")]
    [InlineData("DIS_DIAB ~", "binomial")]
    [InlineData("DIS_DIAB ~ LAB_HDL", "gamma")]
    [InlineData("DIS_DIAB ~ 0", "binomial")]
    [InlineData("DIS_DIAB ~ -1", "binomial")]
    [Trait("Requirement", "FCR-5")]
    public async Task A_malformed_formula_or_family_is_a_400_and_no_node_is_asked(string formula, string family)
    {
        await AssertRefusedAsync(formula, family);
    }

    [Fact]
    [Trait("Requirement", "FCR-5")]
    public async Task A_formula_nested_65000_deep_is_a_400_and_the_coordinator_lives_on()
    {
        // Note: this formula once overflowed the coordinator's stack and ended its process; the second is within the
        // length bound, so it is the depth bound that refuses it.
        await AssertRefusedAsync("DIS_DIAB ~ " + new string('(', 65_000) + "LAB_HDL" + new string(')', 65_000), "binomial");
        await AssertRefusedAsync("DIS_DIAB ~ " + new string('(', 5_000) + "LAB_HDL" + new string(')', 5_000), "binomial");
    }

    private async Task AssertRefusedAsync(string formula, string family)
    {
        using var researcher = await nodes.A.Server.ClientForAccountAsync("researcher");
        var before = (await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent)).Count;

        using var response = await researcher.PostAsJsonAsync($"/api/v1/projects/{nodes.ProjectA}/federation/glm", new { formula, family });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(ErrorCodes.FederatedAnalysisInvalidParameters, problem.GetProperty("code").GetString());
        Assert.Equal(before, (await ThreeNodeFixture.RecordsAsync(nodes.A, FederatedCoordinator.TaskSent)).Count);
    }
}
