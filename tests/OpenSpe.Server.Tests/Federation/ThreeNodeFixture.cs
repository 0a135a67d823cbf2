using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Federation;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;
using FederationApi = OpenSpe.Federation.V1.Federation;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// Three federation nodes on loopback, each a real SPE (own database, vault and mutual-TLS listener, certificates from the
/// federation CA code): node-a issues the permit (researcher as data user; a CNSIM dataset at each node; the GLM and cohort
/// count approved), node-b and node-c trust node-a's HDAB and import it, and each node's holder uploads that node's CNSIM file.
/// node-c's operator allows only the GLM. The CNSIM files are DataSHIELD's (copied in tests/OpenSpe.Federation.Tests/TestData/cnsim
/// from the shared data set, read from there).
/// </summary>
public class ThreeNodeFixture : IAsyncLifetime
{
    private readonly TempDirectory _temp = new();
    private readonly FederationSandboxes _sandboxes = new();

    public PermitFixture A { get; private set; } = null!;

    public PermitFixture B { get; private set; } = null!;

    public PermitFixture C { get; private set; } = null!;

    public string ProjectA { get; private set; } = "";

    public string ProjectC { get; private set; } = "";

    /// <summary>The permit as node-a's HDAB signed it.</summary>
    public string SignedPermit { get; private set; } = "";

    /// <summary>The federation CA's directory (its key, certificate and revocation list), for tests that revoke a node.</summary>
    internal string CaDirectory => _temp.File("ca");

    /// <summary>The permit's small-cell threshold (airlock <c>threshold</c>).</summary>
    protected virtual int Threshold => 5;

    /// <summary>Whether node-c's operator allows the cohort count as well as the GLM.</summary>
    protected virtual bool NodeCAllowsCounts => false;

    /// <summary>Further components the permit approves and every node's operator allows (e.g. federated learning).</summary>
    protected virtual IReadOnlyList<string> ExtraComponents => [];

    /// <summary>The permit's <c>privacyBudget</c> (null: the permit default, ε 3 and δ 10⁻⁶).</summary>
    protected virtual object? PrivacyBudget => null;

    /// <summary>The files node <paramref name="site"/> (1 to 3) holds: its CNSIM file.</summary>
    protected virtual IEnumerable<(string Name, byte[] Content)> Files(int site) => [($"CNSIM{site}.csv", File.ReadAllBytes(CnsimFile(site)))];

    public static string CnsimFile(int node) =>
        Path.Combine(RepositoryRoot.Path, "tests", "OpenSpe.Federation.Tests", "TestData", "cnsim", $"node{node}", $"CNSIM{node}.csv");

    public async ValueTask InitializeAsync()
    {
        var notBefore = PermitFixture.Start.AddDays(-30);
        // Note: the CA (and its first revocation list, good for 30 days from then) is made at the clock's start, so tests may advance
        // the nodes' clocks (idle copies) without the list going out of date under the next handshake.
        using var ca = FederationCa.Create(_temp.File("ca"), "test federation CA", PermitFixture.Start, TimeSpan.FromDays(400));
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
        // Note: node-a's HDAB issues the permit, so node-a is its coordinator: the only peer whose tasks for it node-b and node-c run.
        var trust = new Dictionary<string, string?>
        {
            ["Federation:TrustedPermitIssuers:0:Issuer"] = issuer,
            ["Federation:TrustedPermitIssuers:0:Keys"] = keys,
            ["Federation:TrustedPermitIssuers:0:Node"] = "node-a",
        };
        B = await PermitFixture.StartAsync(Settings(ca, "node-b", portB, ["node-a"], trust));
        FederationSandboxes.Require(A);
        C = await PermitFixture.StartAsync(Settings(ca, "node-c", portC, ["node-a"], trust, onlyGlm: !NodeCAllowsCounts));

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
            airlock = new { threshold = Threshold },
            approvedComponents = new[] { GlmNodeAnalysis.ComponentName, CohortCountNodeAnalysis.ComponentName }.Concat(ExtraComponents).Select(ApprovedComponent.Of).ToArray(),
            privacyBudget = PrivacyBudget,
        };
        (var permitId, ProjectA) = await A.IssueAsync(document);
        using var hdab = await A.Server.ClientForAccountAsync("hdab");
        var signed = (await hdab.GetStringAsync($"/api/v1/permits/{permitId}/document")).Trim().Trim('"');
        SignedPermit = signed;
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

        _sandboxes.Dispose();
        _temp.Dispose();
        GC.SuppressFinalize(this);
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
        _sandboxes.Configure(settings, name);
        if (!onlyGlm)
        {
            settings["Federation:AllowedComponents:1"] = CohortCountNodeAnalysis.ComponentName;
        }

        for (var i = 0; i < ExtraComponents.Count; i++)
        {
            settings[$"Federation:AllowedComponents:{2 + i}"] = ExtraComponents[i];
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

    internal static async Task<string> ImportAsync(PermitFixture node, string signed)
    {
        using var hdab = await node.Server.ClientForAccountAsync("hdab");
        using var response = await hdab.PostAsJsonAsync("/api/v1/permits/import", new { document = signed });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("projectId").GetString()!;
    }

    private async Task UploadAsync(PermitFixture node, string projectId, string dataset, int site)
    {
        using var holder = await node.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, projectId);
        foreach (var (name, plaintext) in Files(site))
        {
            var (_, last) = await tus.UploadAsync(TusClient.Encrypt(plaintext, await tus.ProjectKeyAsync()), dataset, name, TusClient.Sha256Hex(plaintext));
            Assert.True(last.IsSuccessStatusCode, await last.Content.ReadAsStringAsync());
        }
    }

    /// <summary>A gRPC client calling <paramref name="target"/>'s federation listener as node <paramref name="asNode"/> (with its certificate).</summary>
    internal FederationApi.FederationClient PeerClient(PermitFixture target, string asNode, out GrpcChannel channel)
    {
        ArgumentNullException.ThrowIfNull(target);
        var certificate = X509Certificate2.CreateFromPemFile(_temp.File($"certs/{asNode}.crt"), _temp.File($"certs/{asNode}.key"));
        var authority = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_temp.File("ca"), FederationCa.CertificateFile)));
        var expected = target.Server.Services.GetRequiredService<FederationNodeIdentity>().Name;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificates = new X509CertificateCollection { certificate },
                // The target is checked as a peer checks it: chained to this fixture's federation CA, and named as that node.
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 server && ChainsTo(server, authority)
                    && server.GetNameInfo(X509NameType.DnsName, false) == expected,
            },
        };
        channel = GrpcChannel.ForAddress(target.Server.Services.GetRequiredService<FederationListener>().Address!, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return new FederationApi.FederationClient(channel);
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
