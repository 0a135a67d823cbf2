using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Federation.V1;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// <c>POST /api/v1/permits/import</c>: a permit another SPE's HDAB signed becomes a local project for the datasets this node holds;
/// a peer's task then runs on the data uploaded to it; untrusted, foreign or wrongly addressed permits and the wrong roles are refused.
/// </summary>
public sealed class PermitImportTests : IAsyncLifetime
{
    internal const string Issuer = "https://hdab.example.org";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly FederationNodeFixture _node = new();
    private readonly ECDsa _hdabKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public async ValueTask InitializeAsync()
    {
        var parameters = _hdabKey.ExportParameters(false);
        var jwks = JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "EC", crv = "P-256", x = Base64UrlEncoder.Encode(parameters.Q.X), y = Base64UrlEncoder.Encode(parameters.Q.Y), kid = "hdab-1", use = "sig", alg = "ES256" } },
        });
        await _node.StartAsync(new Dictionary<string, string?>
        {
            // Note: entries 0 and 1 are the fixture's own issuers; this HDAB's permits are coordinated by node-b, which calls below.
            ["Federation:TrustedPermitIssuers:2:Issuer"] = Issuer,
            ["Federation:TrustedPermitIssuers:2:Keys"] = jwks,
            ["Federation:TrustedPermitIssuers:2:Node"] = "node-b",
        });
    }

    public async ValueTask DisposeAsync()
    {
        _hdabKey.Dispose();
        await _node.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "FSPER-3")]
    [Trait("Requirement", "FCR-7")]
    public async Task A_permit_signed_by_a_trusted_HDAB_becomes_a_local_project_and_a_peers_task_runs_on_its_data()
    {
        var signed = Sign(Document("node-a"), _hdabKey);
        using var hdab = await _node.Node.Server.ClientForAccountAsync("hdab");

        var response = await hdab.PostAsJsonAsync("/api/v1/permits/import", new { document = signed });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var view = JsonDocument.Parse(body).RootElement;
        var projectId = view.GetProperty("projectId").GetString()!;
        var datasets = view.GetProperty("document").GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("id").GetString()).ToList();
        Assert.Equal(["remote-cohort"], datasets);
        Assert.NotEmpty(await _node.RecordsAsync("permit.imported", where: r => r.DetailsJson.Contains(Issuer, StringComparison.Ordinal)));

        await _node.UploadAsync("remote-cohort", "remote.csv", FederationNodeFixture.Csv(7), projectId);
        var client = _node.Client("node-b", out var channel);
        using var _ = channel;
        var accepted = await client.SubmitTaskAsync(new TaskRequest { Permit = signed, Requester = "alice", Component = RowCountAnalysis.Name, ParametersJson = "{}" }, FederationNodeFixture.Deadline());
        using var watch = client.WatchTask(new WatchRequest { TaskId = accepted.TaskId }, FederationNodeFixture.Deadline());
        TaskEvent? last = null;
        await foreach (var item in watch.ResponseStream.ReadAllAsync())
        {
            last = item;
        }

        Assert.Equal("done", last!.State);
        Assert.Equal(7, JsonDocument.Parse(last.ResultJson).RootElement.GetProperty("total").GetInt64());
    }

    [Theory]
    [Trait("Requirement", "FSPER-3")]
    [InlineData("untrusted-signer", "hdab", HttpStatusCode.UnprocessableEntity)]
    [InlineData("no-dataset-here", "hdab", HttpStatusCode.UnprocessableEntity)]
    [InlineData("not-a-jws", "hdab", HttpStatusCode.UnprocessableEntity)]
    [InlineData("trusted", "researcher", HttpStatusCode.Forbidden)]
    [InlineData("trusted", "holder", HttpStatusCode.Forbidden)]
    public async Task An_import_that_is_not_trusted_not_for_this_node_or_not_by_its_HDAB_or_operator_is_refused_and_creates_nothing(string kind, string username,
        HttpStatusCode expected)
    {
        using var rogue = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var signed = kind switch
        {
            "untrusted-signer" => Sign(Document("node-a"), rogue),
            "no-dataset-here" => Sign(Document("node-z"), _hdabKey),
            "not-a-jws" => "not.a.permit",
            _ => Sign(Document("node-a"), _hdabKey),
        };
        using var client = await _node.Node.Server.ClientForAccountAsync(username);
        using var hdab = await _node.Node.Server.ClientForAccountAsync("hdab");
        var before = (await hdab.GetFromJsonAsync<JsonElement>("/api/v1/permits")).GetArrayLength();

        var response = await client.PostAsJsonAsync("/api/v1/permits/import", new { document = signed });

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.UnprocessableEntity)
        {
            var problem = await ProblemAssert.IsProblemAsync(response, expected);
            Assert.Equal(ErrorCodes.FederationImportRefused, problem.GetProperty("code").GetString());
        }

        Assert.Equal(before, (await hdab.GetFromJsonAsync<JsonElement>("/api/v1/permits")).GetArrayLength());
    }

    internal static Dictionary<string, object?> Document(string node)
    {
        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-EU-2026-7", "alice");
        document["datasets"] = new[]
        {
            new { id = "remote-cohort", title = "Cohort held at this node", holder = "holder", node },
            new { id = "elsewhere", title = "Cohort held at another node", holder = "holder-z", node = "node-y" },
        };
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            approvedComponents = new[] { ApprovedComponent.Of(RowCountAnalysis.Name) },
        };
        return document;
    }

    internal static string Sign(Dictionary<string, object?> document, ECDsa key)
    {
        var payload = JsonSerializer.Serialize(new
        {
            iss = Issuer,
            iat = PermitFixture.Start.ToUnixTimeSeconds(),
            jti = Guid.NewGuid().ToString("N"),
            permitId = "pmt-remote",
            projectId = "prj-remote",
            version = 1,
            state = "active",
            permit = document,
        }, Web);
        return new JsonWebTokenHandler().CreateToken(payload, new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = "hdab-1" }, SecurityAlgorithms.EcdsaSha256),
            new Dictionary<string, object> { ["typ"] = FederatedPermitVerifier.PermitType });
    }
}
