using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Core.Federation;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Federation;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Permits;
using OpenSpe.Server.Tests.Transfers;
using FederationApi = OpenSpe.Federation.V1.Federation;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// A federation node on loopback with real TLS (node-a: a dev SPE with its federation listener), a federation CA with the
/// certificates of its peers — allowed (node-b), not on the allow-list (node-c), revoked, expired, and one from a rogue CA —
/// a permit issued by node-b's HDAB (<see cref="CoordinatorIssuer"/>, trusted here as coordinated by node-b) and imported at
/// node-a, whose dataset node-a holds (a CSV of <see cref="DataRows"/> rows, uploaded by its holder), and clients that call
/// node-a as any of them. node-a also trusts <see cref="OtherIssuer"/>, whose permits node-c coordinates.
/// </summary>
/// <remarks>
/// The permit is node-b's, not node-a's own, because a node runs a peer's task only when that peer coordinates the task's permit
/// (the node of the SPE whose HDAB signed it), and these tests call node-a as node-b.
/// </remarks>
public sealed class FederationNodeFixture : IAsyncLifetime
{
    public const int DataRows = 12;
    public const int SmallRows = 3;
    public const string Researcher = "researcher";

    /// <summary>The issuer (HDAB) of node-b's SPE: trusted at node-a, its permits coordinated by node-b.</summary>
    public const string CoordinatorIssuer = "https://spe-b.example.org";

    /// <summary>Another trusted issuer, whose permits node-c coordinates (node-c is not on node-a's allow-list).</summary>
    public const string OtherIssuer = "https://spe-c.example.org";

    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    private readonly ECDsa _coordinatorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private readonly TempDirectory _temp = new();
    private readonly FederationSandboxes _sandboxes = new();
    private readonly Dictionary<string, X509Certificate2> _certificates = new(StringComparer.Ordinal);
    private FederationCa _ca = null!;

    public PermitFixture Node { get; private set; } = null!;

    public string PermitId { get; private set; } = "";

    public string ProjectId { get; private set; } = "";

    /// <summary>The permit as the HDAB at node-a signed it.</summary>
    public string SignedPermit { get; private set; } = "";

    public Uri Address { get; private set; } = null!;

    public string CaDirectory => _temp.File("ca");

    public async ValueTask InitializeAsync() => await StartAsync(new Dictionary<string, string?>());

    public async Task StartAsync(IDictionary<string, string?> extra, Action<IServiceCollection>? services = null)
    {
        var notBefore = PermitFixture.Start.AddDays(-30);
        var notAfter = PermitFixture.Start.AddDays(300);
        _ca = FederationCa.Create(CaDirectory, "test federation CA", notBefore, TimeSpan.FromDays(400));
        foreach (var name in new[] { "node-a", "node-b", "node-c", "node-revoked" })
        {
            _certificates[name] = Load(_ca, name, _temp.File("certs"), notBefore, notAfter);
        }

        _certificates["node-expired"] = Load(_ca, "node-expired", _temp.File("certs"), notBefore, PermitFixture.Start.AddDays(-1));
        _ca.Revoke("node-revoked", DateTimeOffset.UtcNow);
        // Made with the CA's own key, because its tool always writes one name in both places: a subject of a name not allowed
        // with the SAN of an allowed one, and an allowed subject with a second, unallowed SAN.
        _certificates["names-disagree"] = SignedByCa("node-evil", ["node-b"], notBefore, notAfter);
        _certificates["two-names"] = SignedByCa("node-b", ["node-b", "node-evil"], notBefore, notAfter);
        using (var rogue = FederationCa.Create(_temp.File("rogue-ca"), "test federation CA", notBefore, TimeSpan.FromDays(400)))
        {
            _certificates["rogue"] = Load(rogue, "node-b", _temp.File("rogue"), notBefore, notAfter);
        }

        var settings = new Dictionary<string, string?>
        {
            ["Federation:Listen"] = "127.0.0.1:0",
            ["Federation:CaCertificate"] = Path.Combine(CaDirectory, FederationCa.CertificateFile),
            ["Federation:Crl"] = _ca.CrlPath,
            ["Federation:Certificate"] = _temp.File("certs/node-a.crt"),
            ["Federation:Key"] = _temp.File("certs/node-a.key"),
            ["Federation:AllowedPeers:0"] = "node-b",
            ["Federation:AllowedPeers:1"] = "node-revoked",
            ["Federation:AllowedPeers:2"] = "node-expired",
            ["Federation:AllowedComponents:0"] = RowCountAnalysis.Name,
            ["Federation:AllowedComponents:1"] = FloodAnalysis.Name,
            ["Federation:AllowedComponents:2"] = "test.not-installed",
            ["Uploads:MaxUploadBytes"] = "10000000",
            ["Federation:TrustedPermitIssuers:0:Issuer"] = CoordinatorIssuer,
            ["Federation:TrustedPermitIssuers:0:Keys"] = Jwks(_coordinatorKey),
            ["Federation:TrustedPermitIssuers:0:Node"] = "node-b",
            ["Federation:TrustedPermitIssuers:1:Issuer"] = OtherIssuer,
            ["Federation:TrustedPermitIssuers:1:Keys"] = Jwks(_otherKey),
            ["Federation:TrustedPermitIssuers:1:Node"] = "node-c",
        };
        // Note: the row count runs in the project's sandbox like every component, so this node has the real one.
        _sandboxes.Configure(settings, "node-a");
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        Node = await PermitFixture.StartAsync(settings, services: s =>
        {
            s.AddSingleton<FloodAnalysis>();
            s.AddSingleton<IFederatedAnalysis>(sp => sp.GetRequiredService<FloodAnalysis>());
            services?.Invoke(s);
        });
        Address = Node.Server.Services.GetRequiredService<FederationListener>().Address!;
        FederationSandboxes.Require(Node);

        var document = PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30), users: [Researcher]);
        document["datasets"] = new[] { new { id = "cohort", title = "Cohort", holder = "holder", node = "node-a" }, new { id = "small", title = "Small cohort", holder = "holder", node = "node-a" } };
        document["policies"] = new
        {
            fileTypes = new { upload = new[] { "csv" } },
            airlock = new { threshold = 5 },
            // Note: the row count is listed twice, once as a build this node does not run, as an HDAB approving a release ahead of an
            // upgrade would: the entry with this node's identity is the one that lets it run.
            approvedComponents = new[]
            {
                ApprovedComponent.Other(RowCountAnalysis.Name, version: "0.9.0"), ApprovedComponent.Of(RowCountAnalysis.Name), ApprovedComponent.Of(FloodAnalysis.Name),
                ApprovedComponent.Of("test.not-allowed-here"), ApprovedComponent.Of("test.not-installed"),
            },
        };
        (PermitId, ProjectId, SignedPermit) = await IssueAsync(document);
        await UploadAsync("cohort", "cohort.csv", Csv(DataRows));
        await UploadAsync("small", "small.csv", Csv(SmallRows));
    }

    /// <summary>
    /// A permit signed by node-b's HDAB (<see cref="CoordinatorIssuer"/>; with <paramref name="other"/>, by <see cref="OtherIssuer"/>,
    /// coordinated by node-c) and imported at node-a, as node-b's SPE would issue it and node-a's HDAB import it; its datasets
    /// must name <c>node-a</c>. The permit's id (as signed), node-a's local project, and the signed permit.
    /// </summary>
    public async Task<(string PermitId, string ProjectId, string Signed)> IssueAsync(Dictionary<string, object?> document, bool other = false)
    {
        ArgumentNullException.ThrowIfNull(document);
        var permitId = "pmt-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var signed = Sign(document, other ? OtherIssuer : CoordinatorIssuer, other ? _otherKey : _coordinatorKey, permitId);
        var projectId = await ThreeNodeFixture.ImportAsync(Node, signed);
        return (permitId, projectId, signed);
    }

    /// <summary>A permit document signed as a compact JWS by <paramref name="issuer"/>'s HDAB key, as an SPE's permit document endpoint signs it.</summary>
    public static string Sign(Dictionary<string, object?> document, string issuer, ECDsa key, string permitId)
    {
        ArgumentNullException.ThrowIfNull(key);
        var payload = JsonSerializer.Serialize(new
        {
            iss = issuer,
            iat = PermitFixture.Start.ToUnixTimeSeconds(),
            jti = Guid.NewGuid().ToString("N"),
            permitId,
            projectId = "prj-" + permitId,
            version = 1,
            state = "active",
            permit = document,
        }, WebJson);
        return new JsonWebTokenHandler().CreateToken(payload, new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = "hdab-1" }, SecurityAlgorithms.EcdsaSha256),
            new Dictionary<string, object> { ["typ"] = FederatedPermitVerifier.PermitType });
    }

    /// <summary>The JWK set of <paramref name="key"/>'s public half, as an SPE's <c>/.well-known/spe-keys.json</c> serves it.</summary>
    public static string Jwks(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parameters = key.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "EC", crv = "P-256", x = Base64UrlEncoder.Encode(parameters.Q.X), y = Base64UrlEncoder.Encode(parameters.Q.Y), kid = "hdab-1", use = "sig", alg = "ES256" } },
        });
    }

    public static string Csv(int rows) => "id,age\n" + string.Concat(Enumerable.Range(1, rows).Select(i => $"{i},{20 + i}\n"));

    public async Task UploadAsync(string dataset, string filename, string csv, string? projectId = null)
    {
        using var holder = await Node.Server.ClientForAccountAsync("holder");
        var tus = new TusClient(holder, projectId ?? ProjectId);
        var plaintext = Encoding.UTF8.GetBytes(csv);
        var (_, last) = await tus.UploadAsync(TusClient.Encrypt(plaintext, await tus.ProjectKeyAsync()), dataset, filename, TusClient.Sha256Hex(plaintext));
        Assert.True(last.IsSuccessStatusCode, await last.Content.ReadAsStringAsync());
    }

    /// <summary>A client calling node-a as <paramref name="certificate"/> (a name above, or null for none).</summary>
    internal FederationApi.FederationClient Client(string? certificate, out GrpcChannel channel)
    {
        var authority = _ca.Certificate;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificates = certificate is null ? null : new X509CertificateCollection { _certificates[certificate] },
                // The server is checked as a peer checks it: chained to the federation CA, named node-a.
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 server && ChainsTo(server, authority)
                    && server.GetNameInfo(X509NameType.DnsName, false) == "node-a",
            },
        };
        channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return new FederationApi.FederationClient(channel);
    }

    public static CallOptions Deadline(CancellationToken cancellationToken = default) => new(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken);

    /// <summary>The audit records with <paramref name="action"/>, once at least <paramref name="atLeast"/> are written.</summary>
    internal async Task<List<Core.Audit.AuditRow>> RecordsAsync(string action, int atLeast = 1, Func<Core.Audit.AuditRow, bool>? where = null)
    {
        var audit = Node.Server.Services.GetRequiredService<AuditService>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var rows = (await audit.QueryAsync(new AuditQuery())).Where(r => r.Action == action && (where?.Invoke(r) ?? true)).ToList();
            if (rows.Count >= atLeast || DateTime.UtcNow > deadline)
            {
                return rows;
            }

            // The handshake's refusals are written by a background writer; this waits for it, not for time.
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }

        foreach (var certificate in _certificates.Values)
        {
            certificate.Dispose();
        }

        _ca?.Dispose();
        _coordinatorKey.Dispose();
        _otherKey.Dispose();
        _sandboxes.Dispose();
        _temp.Dispose();
    }

    private static X509Certificate2 Load(FederationCa ca, string name, string directory, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ca.Issue(name, directory, notBefore, notAfter).Dispose();
        return X509Certificate2.CreateFromPemFile(Path.Combine(directory, name + ".crt"), Path.Combine(directory, name + ".key"));
    }

    /// <summary>A certificate signed with the federation CA's key with the given subject and DNS names (not via its tool).</summary>
    private X509Certificate2 SignedByCa(string commonName, string[] dnsNames, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(File.ReadAllText(Path.Combine(CaDirectory, FederationCa.KeyFile)));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build(false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca.Certificate, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(_ca.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), notBefore, notAfter, serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        // Note: through PKCS#12 bytes, because SslStream on Linux needs a certificate whose key is not an ephemeral handle.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
