using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Operations.Certificates;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Operations;

/// <summary>
/// <c>GET /api/v1/operations/certificates</c> (OPR-6, TIR-13) through the real pipeline: operators and auditors read the
/// server's TLS certificate with subject, expiry and days left; a certificate under 14 days is flagged; every other role,
/// a sign-in without a second factor and a caller without a token are refused.
/// </summary>
public sealed class CertificateEvidenceTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private const string Route = "/api/v1/operations/certificates";

    [Theory]
    [InlineData("operator")]
    [InlineData("auditor")]
    [Trait("Requirement", "OPR-6")]
    [Trait("Requirement", "TIR-13")]
    public async Task Operators_and_auditors_read_the_tls_certificate_with_its_expiry(string who)
    {
        using var client = await shared.Server.ClientForAccountAsync(who);
        var tls = shared.Server.Services.GetRequiredService<X509Certificate2>();
        var time = shared.Server.Services.GetRequiredService<TimeProvider>();

        var before = CertificateEndpoints.View("tls", tls, time.GetUtcNow()).DaysLeft;
        var evidence = await client.GetFromJsonAsync<JsonElement>(Route, TestContext.Current.CancellationToken);
        var after = CertificateEndpoints.View("tls", tls, time.GetUtcNow()).DaysLeft;

        Assert.Equal(14, evidence.GetProperty("warnDays").GetInt32());
        // Note: this test server has no federation configured, so the TLS certificate is the only one.
        var certificate = Assert.Single(evidence.GetProperty("certificates").EnumerateArray());
        Assert.Equal("tls", certificate.GetProperty("name").GetString());
        Assert.Equal(tls.Subject, certificate.GetProperty("subject").GetString());
        Assert.Equal(new DateTimeOffset(tls.NotAfter.ToUniversalTime()), certificate.GetProperty("notAfter").GetDateTimeOffset());
        Assert.InRange(certificate.GetProperty("daysLeft").GetInt64(), after, before);
        Assert.Equal(before < 14, certificate.GetProperty("expiringSoon").GetBoolean());
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public void A_certificate_is_flagged_under_14_days_left_and_counts_negative_days_once_expired()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var notAfter = new DateTimeOffset(2027, 1, 15, 12, 0, 0, TimeSpan.Zero);
        using var certificate = new CertificateRequest("CN=spe.example", key, HashAlgorithmName.SHA256).CreateSelfSigned(notAfter.AddYears(-1), notAfter);

        var fifteen = CertificateEndpoints.View("tls", certificate, notAfter.AddDays(-15));
        var fourteen = CertificateEndpoints.View("tls", certificate, notAfter.AddDays(-14));
        var thirteen = CertificateEndpoints.View("federation", certificate, notAfter.AddDays(-13).AddHours(-1));
        var expired = CertificateEndpoints.View("tls", certificate, notAfter.AddDays(2));

        Assert.Equal(("CN=spe.example", 15L, false), (fifteen.Subject, fifteen.DaysLeft, fifteen.ExpiringSoon));
        Assert.Equal((14L, false), (fourteen.DaysLeft, fourteen.ExpiringSoon));
        Assert.Equal(("federation", 13L, true), (thirteen.Name, thirteen.DaysLeft, thirteen.ExpiringSoon));
        Assert.Equal((-2L, true), (expired.DaysLeft, expired.ExpiringSoon));
    }

    [Theory]
    [InlineData("hdab")]
    [InlineData("researcher")]
    [InlineData("holder")]
    [InlineData("checker")]
    [InlineData("admin")]
    [Trait("Requirement", "TIR-13")]
    public async Task Other_roles_are_refused(string who)
    {
        using var client = await shared.Server.ClientForAccountAsync(who);

        var response = await client.GetAsync(Route, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "TIR-13")]
    public async Task Without_a_second_factor_or_a_token_it_is_refused()
    {
        using var password = shared.Server.ClientWithToken(await shared.Server.PasswordOnlyTokenAsync("certificates-nomfa", "operator"));

        Assert.Equal(HttpStatusCode.Forbidden, (await password.GetAsync(Route, TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await shared.Server.Client.GetAsync(Route, TestContext.Current.CancellationToken)).StatusCode);
    }
}
