using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Federation;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// Three federation nodes on loopback, each a real SPE (own database, vault and mutual-TLS listener, certificates from the
/// federation CA code): node-a issues the permit (researcher as data user; a CNSIM dataset at each node; the GLM and cohort
/// count approved), node-b and node-c trust node-a's HDAB and import it, and each node's holder uploads that node's CNSIM file.
/// node-c's operator allows only the GLM. The CNSIM files are DataSHIELD's (copied in tests/OpenSpe.Federation.Tests/TestData/cnsim
/// from the shared data set, read from there).
/// </summary>
public sealed class ThreeNodeFixture : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();

    public PermitFixture A { get; private set; } = null!;

    public PermitFixture B { get; private set; } = null!;

    public PermitFixture C { get; private set; } = null!;

    public string ProjectA { get; private set; } = "";

    public string ProjectC { get; private set; } = "";

    public static string CnsimFile(int node)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "OpenSpe.slnx")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, "tests", "OpenSpe.Federation.Tests", "TestData", "cnsim", $"node{node}", $"CNSIM{node}.csv");
    }

    public async ValueTask InitializeAsync()
    {
        var notBefore = PermitFixture.Start.AddDays(-30);
        using var ca = FederationCa.Create(_temp.File("ca"), "test federation CA", notBefore, TimeSpan.FromDays(400));
        foreach (var name in new[] { "node-a", "node-b", "node-c" })
        {
            ca.Issue(name, _temp.File("certs"), notBefore, PermitFixture.Start.AddDays(300)).Dispose();
        }

        // Note: node-a must know its peers' addresses before they start, and they must know node-a's permit key, which exists
        // only once node-a runs: so the peers' ports are chosen first and node-a starts first.
        var portB = FreePort();
        var portC = FreePort();
        A = await PermitFixture.StartAsync(Settings(ca, "node-a", 0, ["node-b", "node-c"], new()
        {
            ["Federation:Peers:0:Name"] = "node-b",
            ["Federation:Peers:0:Address"] = $"https://127.0.0.1:{portB}",
            ["Federation:Peers:1:Name"] = "node-c",
            ["Federation:Peers:1:Address"] = $"https://127.0.0.1:{portC}",
        }));
        var issuer = A.Server.Services.GetRequiredService<IOptions<TokenOptions>>().Value.Issuer!;
        var keys = await A.Server.Client.GetStringAsync("/.well-known/spe-keys.json");
        var trust = new Dictionary<string, string?> { ["Federation:TrustedPermitIssuers:0:Issuer"] = issuer, ["Federation:TrustedPermitIssuers:0:Keys"] = keys };
        B = await PermitFixture.StartAsync(Settings(ca, "node-b", portB, ["node-a"], trust));
        C = await PermitFixture.StartAsync(Settings(ca, "node-c", portC, ["node-a"], trust, onlyGlm: true));

        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), "HDAB-FED-2026-1", "researcher");
        // Note: the issuing node's own dataset names no node (absent = this SPE), as a holder uploads only to datasets held here.
        document["datasets"] = new object[]
        {
            new { id = "cnsim1", title = "CNSIM site 1", holder = "holder" },
            new { id = "cnsim2", title = "CNSIM site 2", holder = "holder", node = "node-b" },
            new { id = "cnsim3", title = "CNSIM site 3", holder = "holder", node = "node-c" },
        };
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            approvedComponents = new[] { Component(GlmNodeAnalysis.ComponentName), Component(CohortCountNodeAnalysis.ComponentName) },
        };
        (var permitId, ProjectA) = await A.IssueAsync(document);
        using var hdab = await A.Server.ClientForAccountAsync("hdab");
        var signed = (await hdab.GetStringAsync($"/api/v1/permits/{permitId}/document")).Trim().Trim('"');
        var projectB = await ImportAsync(B, signed);
        ProjectC = await ImportAsync(C, signed);
        await UploadAsync(A, ProjectA, "cnsim1", 1);
        await UploadAsync(B, projectB, "cnsim2", 2);
        await UploadAsync(C, ProjectC, "cnsim3", 3);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in new[] { A, B, C })
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
        }

        _temp.Dispose();
    }

    /// <summary>The audit records with <paramref name="action"/> at <paramref name="node"/>.</summary>
    internal static async Task<List<Core.Audit.AuditRow>> RecordsAsync(PermitFixture node, string action) =>
        [.. (await node.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery())).Where(r => r.Action == action)];

    private Dictionary<string, string?> Settings(FederationCa ca, string name, int port, string[] peers, Dictionary<string, string?> extra, bool onlyGlm = false)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Federation:Listen"] = $"127.0.0.1:{port}",
            ["Federation:CaCertificate"] = Path.Combine(_temp.File("ca"), FederationCa.CertificateFile),
            ["Federation:Crl"] = ca.CrlPath,
            ["Federation:Certificate"] = _temp.File($"certs/{name}.crt"),
            ["Federation:Key"] = _temp.File($"certs/{name}.key"),
            ["Federation:AllowedComponents:0"] = GlmNodeAnalysis.ComponentName,
            ["Uploads:MaxUploadBytes"] = "10000000",
        };
        if (!onlyGlm)
        {
            settings["Federation:AllowedComponents:1"] = CohortCountNodeAnalysis.ComponentName;
        }

        for (var i = 0; i < peers.Length; i++)
        {
            settings[$"Federation:AllowedPeers:{i}"] = peers[i];
        }

        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<string> ImportAsync(PermitFixture node, string signed)
    {
        using var hdab = await node.Server.ClientForAccountAsync("hdab");
        using var response = await hdab.PostAsJsonAsync("/api/v1/permits/import", new { document = signed });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("projectId").GetString()!;
    }

    private static async Task UploadAsync(PermitFixture node, string projectId, string dataset, int site)
    {
        using var holder = await node.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, projectId);
        var plaintext = await File.ReadAllBytesAsync(CnsimFile(site));
        var (_, last) = await tus.UploadAsync(TusClient.Encrypt(plaintext, await tus.ProjectKeyAsync()), dataset, $"CNSIM{site}.csv", TusClient.Sha256Hex(plaintext));
        Assert.True(last.IsSuccessStatusCode, await last.Content.ReadAsStringAsync());
    }

    private static object Component(string name) => new { name, version = "1.0.0", sha256 = new string('a', 64) };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
