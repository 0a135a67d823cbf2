using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>
/// Federated identities (FSPER-2, FSPER-6): tokens of a trusted external OpenID Connect provider,
/// here a second token issuer started by the test, act for the local account they are mapped to
/// by (issuer, subject), and only when the provider states a second factor (EHDSR-5).
/// </summary>
public sealed class ExternalIdentityTests : IAsyncLifetime
{
    private const string ExternalIssuer = "https://idp.test.example/";
    private const string Audience = "openspe";
    private const string Subject = "ext-123";
    private const string EidasHigh = "http://eidas.europa.eu/LoA/high";
    private const string EidasLow = "http://eidas.europa.eu/LoA/low";

    private LocalTokenIssuer _issuer = null!;

    public async ValueTask InitializeAsync() => _issuer = await LocalTokenIssuer.StartAsync(ExternalIssuer);

    public async ValueTask DisposeAsync() => await _issuer.DisposeAsync();

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "FSPER-6")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task External_token_with_mfa_acts_as_the_mapped_account_and_is_audited()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        using var external = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd", "mfa")));

        var info = await external.GetAsync("/api/v1/server/info");
        var me = await external.GetFromJsonAsync<JsonElement>("/api/v1/account");

        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.Equal("researcher", me.GetProperty("username").GetString());
        Assert.Equal(["researcher"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Contains("mfa", me.GetProperty("authenticationMethods").EnumerateArray().Select(r => r.GetString()));
        var rows = await RowsAsync(server);
        Assert.Contains(rows, r => r.ActorUsername == "researcher" && r.Outcome == "success" && r.HttpStatus == 200
            && r.DetailsJson.Contains("\"path\":\"/api/v1/server/info\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "FSPER-6")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task External_token_without_mfa_is_forbidden()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        using var external = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd")));

        var info = await external.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.Forbidden, info.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    public async Task External_token_for_an_unmapped_subject_is_unauthenticated()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        using var external = server.ClientWithToken(_issuer.Mint("ext-unmapped", Audience, Amr("pwd", "mfa")));

        var info = await external.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.Unauthorized, info.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "OPR-1")]
    public async Task External_token_for_a_disabled_account_is_unauthenticated()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject, thenAsAdmin: async admin =>
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/v1/admin/users/researcher/disable", null)).StatusCode));
        using var external = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd", "mfa")));

        var info = await external.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.Unauthorized, info.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    public async Task External_token_signed_by_another_key_is_unauthenticated()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        // Same key id as the issuer's real key, so only the signature itself gives the forgery away.
        var forged = _issuer.Mint(Subject, Audience, Amr("pwd", "mfa"), signWith: LocalTokenIssuer.NewKey("idp-key-1"));
        using var external = server.ClientWithToken(forged);

        var info = await external.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.Unauthorized, info.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    public async Task External_token_for_another_audience_is_unauthenticated()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        using var external = server.ClientWithToken(_issuer.Mint(Subject, "another-service", Amr("pwd", "mfa")));

        var info = await external.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.Unauthorized, info.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "TIR-7")]
    public async Task Keys_from_a_jwks_server_that_does_not_match_the_pinned_certificate_are_not_trusted()
    {
        await using var server = await StartSpeAsync(fingerprint: new string('0', 64));
        await MapAsync(server, "researcher", Subject);
        using var external = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd", "mfa")));

        var info = await external.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.Unauthorized, info.StatusCode);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJpc3MiOjQyfQ.")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJpc3MiOlsiaHR0cHM6Ly9pZHAudGVzdC5leGFtcGxlLyJdfQ.")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0LmV4YW1wbGUvIiwic3ViIjoiZXh0LTEyMyIsImF1ZCI6Im9wZW5zcGUiLCJhbXIiOlsibWZhIl0sImV4cCI6NDEwMjQ0NDgwMH0.")]
    [Trait("Requirement", "FSPER-2")]
    public async Task Malformed_or_unsigned_bearer_tokens_are_unauthenticated_when_a_provider_is_trusted(string token)
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        using var client = server.ClientWithToken(token);

        var info = await client.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.Unauthorized, info.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-6")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Provider_configured_with_acr_accepts_high_assurance_and_refuses_low()
    {
        await using var server = await StartSpeAsync(mfaClaim: "acr", mfaValues: [EidasHigh]);
        await MapAsync(server, "researcher", Subject);
        using var high = server.ClientWithToken(_issuer.Mint(Subject, Audience, new Dictionary<string, object> { ["acr"] = EidasHigh }));
        using var low = server.ClientWithToken(_issuer.Mint(Subject, Audience, new Dictionary<string, object> { ["acr"] = EidasLow }));
        // amr says mfa, but this provider is trusted on acr only.
        using var amrOnly = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd", "mfa")));

        var accepted = await high.GetAsync("/api/v1/server/info");
        var refused = await low.GetAsync("/api/v1/server/info");
        var ignored = await amrOnly.GetAsync("/api/v1/server/info");

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, ignored.StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "OPR-1")]
    public async Task A_revoked_admin_can_neither_list_nor_remove_a_mapping_with_the_token_they_still_hold()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        await server.EnsureAccountAsync("admin-leaving", "admin");
        using var leaving = await server.ClientForAccountAsync("admin-leaving");
        using var admin = await server.ClientForAccountAsync("admin");
        var query = $"issuer={Uri.EscapeDataString(ExternalIssuer)}&subject={Subject}";
        Assert.Equal(HttpStatusCode.OK, (await leaving.GetAsync("/api/v1/admin/users")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/v1/admin/users/admin-leaving/disable", null)).StatusCode);
        var listed = await leaving.GetAsync("/api/v1/admin/users");
        var removed = await leaving.DeleteAsync("/api/v1/admin/users/researcher/external-identities?" + query);

        await ProblemAssert.IsProblemAsync(listed, HttpStatusCode.Unauthorized);
        await ProblemAssert.IsProblemAsync(removed, HttpStatusCode.Unauthorized);
        var users = await admin.GetFromJsonAsync<List<UserView>>("/api/v1/admin/users");
        Assert.Equal([new ExternalIdentityView(ExternalIssuer, Subject)], users!.Single(u => u.Username == "researcher").ExternalIdentities);
        using var external = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd", "mfa")));
        Assert.Equal(HttpStatusCode.OK, (await external.GetAsync("/api/v1/server/info")).StatusCode);
        Assert.DoesNotContain(await RowsAsync(server), r => r.Action == "admin.external-identities.removed");
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "SDR-2")]
    public async Task Admin_sees_the_mapping_and_removes_it_then_the_providers_token_stops_at_once_and_the_removal_is_audited()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        using var external = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd", "mfa")));
        using var admin = await server.ClientForAccountAsync("admin");
        var before = await external.GetAsync("/api/v1/server/info");
        var listed = await admin.GetFromJsonAsync<List<UserView>>("/api/v1/admin/users");

        var removed = await admin.DeleteAsync($"/api/v1/admin/users/researcher/external-identities?issuer={Uri.EscapeDataString(ExternalIssuer)}&subject={Subject}");
        var after = await external.GetAsync("/api/v1/server/info");
        var again = await admin.DeleteAsync($"/api/v1/admin/users/researcher/external-identities?issuer={Uri.EscapeDataString(ExternalIssuer)}&subject={Subject}");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal([new ExternalIdentityView(ExternalIssuer, Subject)], listed!.Single(u => u.Username == "researcher").ExternalIdentities);
        Assert.True(removed.StatusCode == HttpStatusCode.OK, await removed.Content.ReadAsStringAsync());
        Assert.Empty((await removed.Content.ReadFromJsonAsync<UserView>())!.ExternalIdentities);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        var rows = await RowsAsync(server);
        Assert.Contains(rows, r => r.Action == "admin.external-identities.removed" && r.ActorUsername == "admin"
            && r.DetailsJson.Contains($"\"subject\":\"{Subject}\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    [Trait("Requirement", "SDR-2")]
    public async Task Removing_a_mapping_is_refused_to_non_admins_for_your_own_account_and_without_issuer_and_subject()
    {
        await using var server = await StartSpeAsync();
        await MapAsync(server, "researcher", Subject);
        var query = $"issuer={Uri.EscapeDataString(ExternalIssuer)}&subject={Subject}";
        using var operatorClient = await server.ClientForAccountAsync("operator");
        using var researcher = await server.ClientForAccountAsync("researcher");
        using var admin = await server.ClientForAccountAsync("admin");

        var byOperator = await operatorClient.DeleteAsync("/api/v1/admin/users/researcher/external-identities?" + query);
        var byThemselves = await researcher.DeleteAsync("/api/v1/admin/users/researcher/external-identities?" + query);
        var own = await admin.DeleteAsync($"/api/v1/admin/users/admin/external-identities?issuer={Uri.EscapeDataString(ExternalIssuer)}&subject=ext-admin");
        var bare = await admin.DeleteAsync("/api/v1/admin/users/researcher/external-identities");
        var otherAccounts = await admin.DeleteAsync($"/api/v1/admin/users/operator/external-identities?" + query);

        Assert.Equal(HttpStatusCode.Forbidden, byOperator.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byThemselves.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Contains("You cannot change your own account here", await own.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
        var errors = JsonDocument.Parse(await bare.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty("issuer", out _));
        Assert.True(errors.TryGetProperty("subject", out _));
        // Note: the researcher's pair named at another account is not that account's: refused, and the researcher's mapping stays.
        Assert.Equal(HttpStatusCode.NotFound, otherAccounts.StatusCode);
        using var external = server.ClientWithToken(_issuer.Mint(Subject, Audience, Amr("pwd", "mfa")));
        Assert.Equal(HttpStatusCode.OK, (await external.GetAsync("/api/v1/server/info")).StatusCode);
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    public async Task Mapping_from_an_issuer_that_is_not_configured_is_a_field_error_at_the_issuer()
    {
        await using var server = await StartSpeAsync();
        using var admin = await server.ClientForAccountAsync("admin");

        var response = await admin.PostAsJsonAsync("/api/v1/admin/users/researcher/external-identities", new { issuer = "https://other.example/", subject = "x" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Contains("configured external identity providers", errors.GetProperty("issuer")[0].GetString(), StringComparison.Ordinal);
    }

    private static Dictionary<string, object> Amr(params string[] methods) => new() { ["amr"] = methods };

    private Task<SpeTestServer> StartSpeAsync(string? mfaClaim = null, string[]? mfaValues = null, string? fingerprint = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ExternalIdentity:Providers:0:Issuer"] = ExternalIssuer,
            ["ExternalIdentity:Providers:0:Audience"] = Audience,
            ["ExternalIdentity:Providers:0:JwksUrl"] = _issuer.JwksUrl.AbsoluteUri,
            ["ExternalIdentity:Providers:0:JwksCertificateFingerprint"] = fingerprint ?? _issuer.CertificateFingerprint,
        };
        if (mfaClaim is not null)
        {
            settings["ExternalIdentity:Providers:0:MfaClaim"] = mfaClaim;
        }

        for (var i = 0; i < (mfaValues?.Length ?? 0); i++)
        {
            settings[$"ExternalIdentity:Providers:0:MfaValues:{i}"] = mfaValues![i];
        }

        return SpeTestServer.StartAsync(settings: settings);
    }

    /// <summary>As the dev admin (a real sign-in), maps (issuer, <paramref name="subject"/>) to <paramref name="username"/>; <paramref name="thenAsAdmin"/> does more in the same session.</summary>
    private static async Task MapAsync(SpeTestServer server, string username, string subject, Func<HttpClient, Task>? thenAsAdmin = null)
    {
        using var admin = await new IdentityClient(server).ClientForAsync("admin");
        var mapped = await admin.PostAsJsonAsync($"/api/v1/admin/users/{username}/external-identities", new { issuer = ExternalIssuer, subject });
        Assert.True(mapped.StatusCode == HttpStatusCode.Accepted, await mapped.Content.ReadAsStringAsync());
        // Note: a mapping is a credential, so a second admin approves it (AdminTakeoverTests); only then does it act as the account.
        await server.EnsureAccountAsync("ext-approver", "admin");
        using var approver = await server.ClientForAccountAsync("ext-approver");
        var approvalId = (await mapped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString();
        var approved = await approver.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        Assert.True(approved.StatusCode == HttpStatusCode.OK, await approved.Content.ReadAsStringAsync());
        if (thenAsAdmin is not null)
        {
            await thenAsAdmin(admin);
        }
    }

    private static async Task<List<OpenSpe.Core.Audit.AuditRow>> RowsAsync(SpeTestServer server)
    {
        await using var connection = await server.Database.OpenConnectionAsync();
        return AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
    }
}
