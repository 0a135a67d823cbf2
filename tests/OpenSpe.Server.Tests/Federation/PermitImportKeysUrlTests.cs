using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Federation;

/// <summary>
/// <c>Federation:TrustedPermitIssuers</c> with <c>KeysUrl</c>: the importing node fetches the issuer SPE's
/// <c>/.well-known/spe-keys.json</c> over HTTPS pinned to that SPE's certificate; a wrong pin or an unreachable issuer refuses
/// the permit (fail closed) and creates nothing.
/// </summary>
public sealed class PermitImportKeysUrlTests : IAsyncLifetime
{
    private readonly FederationNodeFixture _node = new();
    private readonly ECDsa _hdabKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private KeysServer _issuer = null!;

    public async ValueTask InitializeAsync() => _issuer = await KeysServer.StartAsync(Jwks(_hdabKey));

    public async ValueTask DisposeAsync()
    {
        await _issuer.DisposeAsync();
        _hdabKey.Dispose();
        await _node.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "FSPER-3")]
    public async Task A_permit_whose_issuer_keys_are_fetched_from_its_pinned_KeysUrl_is_imported()
    {
        await StartNodeAsync(_issuer.CertificateFingerprint);
        using var hdab = await _node.Node.Server.ClientForAccountAsync("hdab");

        var response = await hdab.PostAsJsonAsync("/api/v1/permits/import", new { document = PermitImportTests.Sign(PermitImportTests.Document("node-a"), _hdabKey) });

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        Assert.Equal(1, _issuer.Fetches);
    }

    [Theory]
    [Trait("Requirement", "FSPER-3")]
    [InlineData("wrong-pin")]
    [InlineData("unreachable")]
    [InlineData("garbage")]
    public async Task A_permit_whose_issuer_keys_cannot_be_fetched_with_its_pin_is_refused_and_creates_nothing(string kind)
    {
        // A fingerprint of another certificate: what a server under the same name but not the issuer SPE would present.
        var pin = kind == "wrong-pin" ? Convert.ToHexStringLower(SHA256.HashData("another certificate"u8)) : _issuer.CertificateFingerprint;
        await StartNodeAsync(pin);
        if (kind == "unreachable")
        {
            await _issuer.StopAsync();
        }

        _issuer.Garbage = kind == "garbage";
        using var hdab = await _node.Node.Server.ClientForAccountAsync("hdab");
        var before = (await hdab.GetFromJsonAsync<JsonElement>("/api/v1/permits")).GetArrayLength();

        var response = await hdab.PostAsJsonAsync("/api/v1/permits/import", new { document = PermitImportTests.Sign(PermitImportTests.Document("node-a"), _hdabKey) });

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(ErrorCodes.FederationImportRefused, problem.GetProperty("code").GetString());
        Assert.Contains("KeysUrl", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await hdab.GetFromJsonAsync<JsonElement>("/api/v1/permits")).GetArrayLength());
    }

    private Task StartNodeAsync(string pin) => _node.StartAsync(new Dictionary<string, string?>
    {
        // Note: entries 0 and 1 are the fixture's own issuers.
        ["Federation:TrustedPermitIssuers:2:Issuer"] = PermitImportTests.Issuer,
        ["Federation:TrustedPermitIssuers:2:KeysUrl"] = _issuer.KeysUrl.ToString(),
        ["Federation:TrustedPermitIssuers:2:KeysCertificateFingerprint"] = pin,
        ["Federation:TrustedPermitIssuers:2:Node"] = "node-b",
    });

    private static string Jwks(ECDsa key)
    {
        var parameters = key.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "EC", crv = "P-256", x = Base64UrlEncoder.Encode(parameters.Q.X), y = Base64UrlEncoder.Encode(parameters.Q.Y), kid = "hdab-1", use = "sig", alg = "ES256" } },
        });
    }

    /// <summary>The issuer SPE's key endpoint: a real Kestrel server on loopback with its own TLS certificate serving <c>/.well-known/spe-keys.json</c>.</summary>
    private sealed class KeysServer : IAsyncDisposable
    {
        private readonly TempDirectory _directory;
        private readonly WebApplication _app;
        private bool _stopped;
        private int _fetches;

        private KeysServer(TempDirectory directory, WebApplication app, string fingerprint)
        {
            _directory = directory;
            _app = app;
            CertificateFingerprint = fingerprint;
            KeysUrl = new Uri(new Uri(app.Urls.Single()), "/.well-known/spe-keys.json");
        }

        public Uri KeysUrl { get; }

        public string CertificateFingerprint { get; }

        public int Fetches => _fetches;

        public bool Garbage { get; set; }

        public static async Task<KeysServer> StartAsync(string jwks)
        {
            var directory = new TempDirectory();
            var certificate = TlsCertificates.LoadOrCreateDev(DataDirectory.Open(directory.File("tls")), TimeProvider.System);
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
                kestrel.Listen(IPAddress.Loopback, SpeTestServer.FreePort(), listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                }));
            var app = builder.Build();
            KeysServer? server = null;
            app.Run(context =>
            {
                if (context.Request.Path != "/.well-known/spe-keys.json")
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                Interlocked.Increment(ref server!._fetches);
                context.Response.ContentType = "application/json";
                return context.Response.WriteAsync(server.Garbage ? "<html>not a key set</html>" : jwks);
            });
            await app.StartAsync();
            server = new KeysServer(directory, app, TlsCertificates.Fingerprint(certificate));
            return server;
        }

        public async Task StopAsync()
        {
            if (!_stopped)
            {
                _stopped = true;
                await _app.StopAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            await _app.DisposeAsync();
            _directory.Dispose();
        }
    }
}
