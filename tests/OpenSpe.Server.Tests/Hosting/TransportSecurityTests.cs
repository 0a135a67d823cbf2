using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>HTTPS only, in every mode (TIR-3, SPER-8): no plain listener, production needs a real certificate, HSTS and security headers on every answer.</summary>
public sealed class TransportSecurityTests
{
    [Fact]
    [Trait("Requirement", "TIR-3")]
    [Trait("Requirement", "SPER-8")]
    public async Task Plain_http_to_the_server_port_gets_no_http_answer()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.BaseAddress.Port);
        var stream = tcp.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        var buffer = new byte[256];
        int read;
        try
        {
            read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (IOException)
        {
            read = 0;
        }

        Assert.DoesNotContain("HTTP/1.1 200", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-3")]
    public void Http_listen_url_is_refused()
    {
        using var directory = new TempDirectory();

        var error = Assert.Throws<SpeConfigurationException>(() => SpeHost.Build(Config(directory, ("Server:Dev", "true"), ("Server:Urls", "http://127.0.0.1:0"))));

        Assert.Contains("not HTTPS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-3")]
    [Trait("Requirement", "SPER-8")]
    public void Production_mode_without_a_certificate_refuses_to_start_with_one_line()
    {
        using var directory = new TempDirectory();

        var error = Assert.Throws<SpeConfigurationException>(() => SpeHost.Build(Config(directory, ("Server:Urls", "https://127.0.0.1:0"))));

        Assert.StartsWith("refusing to start without TLS", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    [Trait("Requirement", "TIR-3")]
    public async Task Production_mode_serves_with_the_configured_certificate()
    {
        using var certificates = new TempDirectory();
        using (var generated = TlsCertificates.LoadOrCreateDev(DataDirectory.Open(certificates.Path), TimeProvider.System))
        {
            Assert.NotNull(generated);
        }

        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Server:Dev"] = "false",
            ["Tls:CertificatePath"] = certificates.File(TlsCertificates.DevCertificateName),
            ["Tls:KeyPath"] = certificates.File(TlsCertificates.DevKeyName),
        });

        var response = await server.Client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(server.Info.DevAccounts);
        Assert.False(File.Exists(Path.Combine(server.DataDirectory, "data", DevAccounts.FileName)));
    }

    [Fact]
    [Trait("Requirement", "TIR-3")]
    public async Task Every_response_carries_hsts_and_security_headers()
    {
        await using var server = await SpeTestServer.StartAsync();

        foreach (var path in new[] { "/healthz", "/api/v1/audit/records", "/nowhere" })
        {
            var response = await server.Client.GetAsync(path);

            Assert.Equal("max-age=31536000; includeSubDomains", response.Headers.GetValues("Strict-Transport-Security").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.False(response.Headers.Contains("Server"));
        }
    }

    [Fact]
    [Trait("Requirement", "TIR-3")]
    [Trait("Requirement", "TIR-8")]
    public async Task Tls_1_1_client_hello_is_refused_with_a_protocol_version_alert()
    {
        await using var server = await SpeTestServer.StartAsync();

        // Note: a hand-written hello, because this machine's TLS client refuses to send TLS 1.1 whatever the server offers.
        // It offers AEAD suites too, so only the protocol version can be the reason for the refusal.
        var answer = await RawClientHello.SendAsync(server.BaseAddress.Port, RawClientHello.Tls11, [.. RawClientHello.CbcSuites, RawClientHello.EcdsaAes128Gcm, RawClientHello.RsaAes128Gcm]);

        Assert.Equal(new TlsAnswer(TlsAnswerKind.Alert, AlertDescription: 70), answer);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task Tls_1_2_client_hello_offering_only_cbc_suites_is_refused()
    {
        await using var server = await SpeTestServer.StartAsync();

        var answer = await RawClientHello.SendAsync(server.BaseAddress.Port, RawClientHello.Tls12, RawClientHello.CbcSuites);

        Assert.NotEqual(TlsAnswerKind.ServerHello, answer.Kind);
        Assert.Equal(new TlsAnswer(TlsAnswerKind.Alert, AlertDescription: 40), answer);
    }

    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task Tls_1_2_client_hello_with_an_aead_suite_gets_a_server_hello_choosing_it()
    {
        await using var server = await SpeTestServer.StartAsync();

        var answer = await RawClientHello.SendAsync(server.BaseAddress.Port, RawClientHello.Tls12, [.. RawClientHello.CbcSuites, RawClientHello.EcdsaAes128Gcm]);

        // The dev certificate is ECDSA P-256, so the one ECDSA AEAD suite offered is the only one that can be chosen.
        Assert.Equal(new TlsAnswer(TlsAnswerKind.ServerHello, RawClientHello.Tls12, RawClientHello.EcdsaAes128Gcm), answer);
    }

    private static IConfiguration Config(TempDirectory directory, params (string Key, string Value)[] values)
    {
        var settings = values.ToDictionary(v => v.Key, v => (string?)v.Value);
        settings["Server:DataDirectory"] = directory.File("data");
        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }
}
