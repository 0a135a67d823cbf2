using System.Net;
using OpenSpe.Cli.Client;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>--ca-fingerprint: accepted spellings, and a real TLS server reached with the right pin, refused with a wrong one or none.</summary>
public sealed class CertificatePinTests
{
    private const string Pin = "3b8a0f3c5e2d41f0a9b7c6d5e4f30211a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5";

    [Theory]
    [InlineData(Pin)]
    [InlineData("3B8A0F3C5E2D41F0A9B7C6D5E4F30211A0B9C8D7E6F5A4B3C2D1E0F9A8B7C6D5")]
    [InlineData("3B:8A:0F:3C:5E:2D:41:F0:A9:B7:C6:D5:E4:F3:02:11:A0:B9:C8:D7:E6:F5:A4:B3:C2:D1:E0:F9:A8:B7:C6:D5")]
    [InlineData(" 3b8a0f3c5e2d41f0 a9b7c6d5e4f30211 a0b9c8d7e6f5a4b3 c2d1e0f9a8b7c6d5\n")]
    public void Fingerprints_normalise_to_lower_case_hex_without_colons(string input)
    {
        Assert.True(CertificatePin.TryNormalize(input, out var pin));
        Assert.Equal(Pin, pin);
    }

    [Theory]
    [InlineData("")]
    [InlineData("3b8a0f3c")]
    [InlineData(Pin + "00")]
    [InlineData("zz8a0f3c5e2d41f0a9b7c6d5e4f30211a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5")]
    [InlineData("sha256:3b8a0f3c5e2d41f0a9b7c6d5e4f30211a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5")]
    public void Malformed_fingerprints_are_a_usage_error(string input)
    {
        Assert.False(CertificatePin.TryNormalize(input, out _));
        var ex = Assert.Throws<SpeUsageException>(() => CertificatePin.Normalize(input));
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void Plain_http_and_non_urls_are_refused_as_servers()
    {
        Assert.Equal(2, Assert.Throws<SpeUsageException>(() => ServerConnection.ParseServer("http://spe.test")).ExitCode);
        Assert.Throws<SpeUsageException>(() => ServerConnection.ParseServer("spe.test:8443"));
        Assert.Throws<SpeUsageException>(() => ServerConnection.ParseServer("https://user:pw@spe.test"));
        Assert.Equal("https://spe.test:8443/", ServerConnection.ParseServer("https://spe.test:8443").ToString());
        Assert.Equal("https://spe.test/base/", ServerConnection.ParseServer("https://spe.test/base").ToString());
    }

    [Fact]
    [Trait("Requirement", "SPER-8")]
    public async Task The_right_pin_in_any_spelling_reaches_the_server()
    {
        await using var server = await SpeTestServer.StartAsync();
        var colons = string.Join(':', server.Info.CertificateFingerprint.ToUpperInvariant().Chunk(2).Select(c => new string(c)));

        foreach (var spelling in new[] { server.Info.CertificateFingerprint, colons })
        {
            using var connection = new ServerConnection(server.BaseAddress, CertificatePin.Normalize(spelling));
            using var request = new HttpRequestMessage(HttpMethod.Get, "healthz");
            using var response = await connection.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    [Trait("Requirement", "SPER-8")]
    public async Task A_wrong_pin_refuses_the_connection_and_names_both_fingerprints()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var connection = new ServerConnection(server.BaseAddress, Pin);
        using var request = new HttpRequestMessage(HttpMethod.Get, "healthz");

        var ex = await Assert.ThrowsAsync<SpeClientException>(() => connection.SendAsync(request, TestContext.Current.CancellationToken));

        Assert.Contains("does not match the pinned --ca-fingerprint " + Pin, ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.Info.CertificateFingerprint, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SPER-8")]
    public async Task Without_a_pin_a_self_signed_server_is_refused_never_silently_accepted()
    {
        await using var server = await SpeTestServer.StartAsync();
        using var connection = new ServerConnection(server.BaseAddress, pin: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "healthz");

        var ex = await Assert.ThrowsAsync<SpeClientException>(() => connection.SendAsync(request, TestContext.Current.CancellationToken));

        Assert.Contains("not trusted by the system store", ex.Message, StringComparison.Ordinal);
    }
}
