using System.ComponentModel.DataAnnotations;
using OpenSpe.Server.Federation;

namespace OpenSpe.Server.UnitTests.Federation;

/// <summary>A trusted permit issuer's key source, judged at start: exactly one of Keys, KeysFile or KeysUrl; a KeysUrl https and pinned.</summary>
public sealed class TrustedPermitIssuerOptionsTests
{
    private const string Pin = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    private const string Jwks = """{"keys":[]}""";

    [Theory]
    [Trait("Requirement", "FSPER-3")]
    [InlineData(null, null, "https://spe-a.example.org/.well-known/spe-keys.json", Pin, null)]
    [InlineData(Jwks, null, null, null, null)]
    [InlineData(null, "/etc/spe/hdab-a.jwks", null, null, null)]
    [InlineData(null, null, "https://spe-a.example.org/.well-known/spe-keys.json", "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", null)]
    [InlineData(null, null, "http://spe-a.example.org/.well-known/spe-keys.json", Pin, "must be an absolute https:// URL")]
    [InlineData(null, null, "/.well-known/spe-keys.json", Pin, "must be an absolute https:// URL")]
    [InlineData(null, null, "https://spe-a.example.org/.well-known/spe-keys.json", null, "needs KeysCertificateFingerprint")]
    [InlineData(null, null, "https://spe-a.example.org/.well-known/spe-keys.json", "not-a-fingerprint", "needs KeysCertificateFingerprint")]
    [InlineData(Jwks, "/etc/spe/hdab-a.jwks", null, null, "exactly one of Keys")]
    [InlineData(Jwks, null, "https://spe-a.example.org/.well-known/spe-keys.json", Pin, "exactly one of Keys")]
    [InlineData(null, null, null, null, "exactly one of Keys")]
    public void A_trusted_issuer_needs_exactly_one_key_source_and_a_KeysUrl_is_https_and_pinned(string? keys, string? keysFile, string? keysUrl, string? pin, string? expected)
    {
        var options = new FederationOptions
        {
            Listen = "127.0.0.1:0",
            CaCertificate = "ca.crt",
            Crl = "ca.crl",
            Certificate = "node.crt",
            Key = "node.key",
            AllowedPeers = ["node-b"],
            TrustedPermitIssuers =
            [
                new TrustedPermitIssuer { Issuer = "https://spe-a.example.org", Keys = keys, KeysFile = keysFile, KeysUrl = keysUrl, KeysCertificateFingerprint = pin, Node = "node-a" },
            ],
        };

        var messages = options.Validate(new ValidationContext(options)).Select(r => r.ErrorMessage!).ToList();

        if (expected is null)
        {
            Assert.Empty(messages);
        }
        else
        {
            var message = Assert.Single(messages);
            Assert.Contains("Federation:TrustedPermitIssuers", message, StringComparison.Ordinal);
            Assert.Contains(expected, message, StringComparison.Ordinal);
        }
    }
}
