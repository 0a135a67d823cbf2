using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Api;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Identity;

/// <summary>Accounts from creation to sign-in: enrolment-only until a second factor exists, disable, separation of duties, password policy and client applications (SDR-1, SDR-2, OPR-1, OPR-2, TIR-7).</summary>
public sealed class AccountLifecycleTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;
    private IdentityClient _identity = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync();
        _identity = new IdentityClient(_server);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    [Trait("Requirement", "TIR-10")]
    public async Task An_account_name_taken_already_is_a_409_conflict_with_its_own_code_and_changes_nothing()
    {
        using var admin = await _identity.ClientForAsync("admin");
        var first = await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "twice", roles = new[] { "researcher" } });

        var second = await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "twice", roles = new[] { "data-holder" } });
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/users");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(ErrorCodes.Conflict, (await ProblemAssert.IsProblemAsync(second, HttpStatusCode.Conflict)).GetProperty("code").GetString());
        var account = Assert.Single(users.EnumerateArray(), u => u.GetProperty("username").GetString() == "twice");
        Assert.Equal(["researcher"], account.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "TIR-22")]
    [Trait("Requirement", "SDR-2")]
    public async Task New_account_has_no_password_until_the_person_uses_the_one_time_link_then_can_only_enrol()
    {
        using var admin = await _identity.ClientForAsync("admin");
        var response = await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "newbie", roles = new[] { "researcher" } });
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var link = new Uri(created.GetProperty("enrolmentUrl").GetString()!);
        var token = System.Web.HttpUtility.ParseQueryString(link.Query)["token"]!;
        const string password = "Correct-Horse-Battery-Staple-9";

        var beforeActivation = await _identity.PasswordGrantAsync("newbie", "Correct-Horse-Battery-Staple-9", null);
        var wrongToken = await _server.Client.PostAsJsonAsync("/api/v1/account/activate", new { token = token[..^2] + "xx", password });
        var activated = await _server.Client.PostAsJsonAsync("/api/v1/account/activate", new { token, password });
        var reused = await _server.Client.PostAsJsonAsync("/api/v1/account/activate", new { token, password = "Another-Passphrase-77" });
        var (passwordOnly, _) = await IdentityClient.TokensAsync(await _identity.PasswordGrantAsync("newbie", password, null));
        using var enrolling = _server.ClientWithToken(passwordOnly);
        var refused = await enrolling.GetAsync("/api/v1/server/info");
        var me = await enrolling.GetFromJsonAsync<JsonElement>("/api/v1/account");
        var secret = (await (await enrolling.PostAsync("/api/v1/account/totp", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
        var confirm = await enrolling.PostAsJsonAsync("/api/v1/account/totp/confirm", new { code = _identity.NextCode(secret) });
        var recoveryCodes = (await confirm.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recoveryCodes").EnumerateArray().Select(c => c.GetString()!).ToList();
        var (withMfa, _) = await IdentityClient.TokensAsync(await _identity.PasswordGrantAsync("newbie", password, _identity.NextCode(secret)));
        using var enrolled = _server.ClientWithToken(withMfa);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(link.GetLeftPart(UriPartial.Authority), _server.BaseAddress.GetLeftPart(UriPartial.Authority));
        Assert.Equal(["enrolmentExpiresAt", "enrolmentUrl", "granted", "pendingApproval", "username"], created.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(beforeActivation));
        Assert.Equal(HttpStatusCode.BadRequest, wrongToken.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, activated.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, reused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False(me.GetProperty("mfaEnrolled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Equal(10, recoveryCodes.Count);
        var described = $"^[{RecoveryCodeFormat.Alphabet}]{{{RecoveryCodeFormat.Length}}}$";
        Assert.All(recoveryCodes, c => Assert.Matches(described, c));
        Assert.Matches(described, System.Text.RegularExpressions.Regex.Match(RecoveryCodeFormat.Description, @"e\.g\. (\w+)").Groups[1].Value);
        Assert.Equal(HttpStatusCode.OK, (await enrolled.GetAsync("/api/v1/server/info")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _identity.PasswordGrantAsync("newbie", password, null, recoveryCodes[1][..5].ToLowerInvariant() + "-" + recoveryCodes[1][5..])).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _identity.PasswordGrantAsync("newbie", password, null, recoveryCodes[0])).StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(await _identity.PasswordGrantAsync("newbie", password, null, recoveryCodes[0])));
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(await _identity.PasswordGrantAsync("newbie", password, null)));
        var rows = await RowsAsync();
        Assert.Contains(rows, r => r.Action == "account.activated" && r.ActorUsername == "newbie");
        Assert.DoesNotContain(rows, r => r.DetailsJson.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task Enrolment_link_expires_and_a_reissued_link_a_second_admin_approved_ends_the_old_password_and_sessions()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await SpeTestServer.StartAsync(time: time);
        var identity = new IdentityClient(server);
        using var admin = server.ClientWithToken((await SignInAtAsync(server, "admin", time)).Access);
        var created = await (await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "late", roles = Array.Empty<string>() })).Content.ReadFromJsonAsync<JsonElement>();
        var token = System.Web.HttpUtility.ParseQueryString(new Uri(created.GetProperty("enrolmentUrl").GetString()!).Query)["token"]!;

        time.Advance(TimeSpan.FromDays(3) + TimeSpan.FromSeconds(1));
        var expired = await server.Client.PostAsJsonAsync("/api/v1/account/activate", new { token, password = "Late-Person-Passphrase-1" });
        using var admin2 = server.ClientWithToken((await SignInAtAsync(server, "admin", time)).Access);
        var (researcherAccess, researcherRefresh) = await SignInAtAsync(server, "researcher", time);
        var requested = await admin2.PostAsync("/api/v1/admin/users/researcher/enrolment", null);
        await server.EnsureAccountAsync("second-admin", "admin");
        using var secondAdmin = await server.ClientForAccountAsync("second-admin");
        var approvalId = (await requested.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString();
        var reissued = await secondAdmin.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        using var researcher = server.ClientWithToken(researcherAccess);
        var afterReissue = await researcher.GetAsync("/api/v1/projects");
        var refresh = await identity.RefreshAsync(researcherRefresh);
        var oldPassword = await identity.PasswordGrantAsync("researcher", identity.Account("researcher").Password, null);

        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reissued.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterReissue.StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(refresh));
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(oldPassword));
    }

    private static async Task<(string Access, string Refresh)> SignInAtAsync(SpeTestServer server, string username, TimeProvider time)
    {
        var account = server.Info.DevAccounts.Single(a => a.Username == username);
        var code = Totp.Compute(Base32.Decode(account.TotpSecret), Totp.StepAt(time.GetUtcNow()));
        return await IdentityClient.TokensAsync(await new IdentityClient(server).PasswordGrantAsync(username, account.Password, code));
    }

    [Fact]
    [Trait("Requirement", "OPR-1")]
    [Trait("Requirement", "EHDSR-7")]
    public async Task Disabled_account_cannot_sign_in_or_refresh()
    {
        var (_, refresh) = await _identity.SignInAsync("researcher");
        using var admin = await _identity.ClientForAsync("admin");

        var disable = await admin.PostAsync("/api/v1/admin/users/researcher/disable", null);
        var account = _identity.Account("researcher");
        var signIn = await _identity.PasswordGrantAsync("researcher", account.Password, _identity.NextCode(account.TotpSecret));
        var refreshed = await _identity.RefreshAsync(refresh);

        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(signIn));
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(refreshed));
        var rows = await RowsAsync();
        Assert.Contains(rows, r => r.Action == "auth.signin" && r.ActorUsername == "researcher" && r.DetailsJson.Contains("\"reason\":\"disabled\"", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Action == "admin.users.disabled" && r.ActorUsername == "admin");
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    [Trait("Requirement", "OPR-2")]
    public async Task Nobody_changes_their_own_roles_and_high_privilege_grants_need_a_second_admin()
    {
        using var admin = await _identity.ClientForAsync("admin");
        await CreateSecondAdminAsync("admin2");
        using var admin2 = await SignInCreatedAsync("admin2");

        await admin.PostAsJsonAsync("/api/v1/admin/users", new { username = "ops2", roles = Array.Empty<string>() });

        var self = await admin.PutAsync("/api/v1/admin/users/admin/roles/operator", null);
        var pending = await admin.PutAsync("/api/v1/admin/users/ops2/roles/operator", null);
        var approvalId = (await pending.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString();
        var ownApproval = await admin.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);
        var before = await RolesAsync("ops2");
        var secondApproval = await admin2.PostAsync($"/api/v1/admin/role-grants/{approvalId}/approve", null);

        Assert.Equal(HttpStatusCode.Forbidden, self.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, ownApproval.StatusCode);
        Assert.DoesNotContain("operator", before);
        Assert.Equal(HttpStatusCode.OK, secondApproval.StatusCode);
        Assert.Contains("operator", await RolesAsync("ops2"));
        var rows = await RowsAsync();
        Assert.Contains(rows, r => r.Action == "security.alert" && r.DetailsJson.Contains("high-privilege-grant-requested", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Action == "admin.roles.granted" && r.ActorUsername == "admin2" && r.DetailsJson.Contains("\"role\":\"operator\"", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "OPR-2")]
    public async Task Admin_cannot_disable_or_reset_their_own_account()
    {
        using var admin = await _identity.ClientForAsync("admin");

        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsync("/api/v1/admin/users/admin/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsync("/api/v1/admin/users/admin/reset-mfa", null)).StatusCode);
    }

    [Theory]
    [InlineData("password1234")]
    [InlineData("short")]
    [InlineData("zzzzzzzzzzzzzz")]
    [InlineData("my-hdab-password")]
    [InlineData("abcdefgh-12345")]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Weak_passwords_are_refused_with_a_field_error(string weak)
    {
        using var hdab = await _identity.ClientForAsync("hdab");

        var response = await hdab.PostAsJsonAsync("/api/v1/account/password", new { currentPassword = _identity.Account("hdab").Password, newPassword = weak });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("newPassword", out _));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Password_change_takes_effect()
    {
        using var hdab = await _identity.ClientForAsync("hdab");
        var account = _identity.Account("hdab");

        var changed = await hdab.PostAsJsonAsync("/api/v1/account/password", new { currentPassword = account.Password, newPassword = "Correct-Horse-Battery-Staple-7" });
        var old = await _identity.PasswordGrantAsync("hdab", account.Password, _identity.NextCode(account.TotpSecret));

        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(old));
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    public async Task Mapping_an_identity_from_an_untrusted_issuer_is_refused()
    {
        using var admin = await _identity.ClientForAsync("admin");

        var response = await admin.PostAsJsonAsync("/api/v1/admin/users/researcher/external-identities", new { issuer = "https://unknown.example/", subject = "x" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task CreateSecondAdminAsync(string username)
    {
        // Arrange-only shortcut: a second admin can only come from another admin's approval, and the dev seed has one.
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        var signIn = scope.ServiceProvider.GetRequiredService<SignInService>();
        var user = new SpeUser { UserName = username, CreatedAt = DateTimeOffset.UtcNow };
        signIn.SetEnrolledSecret(user, SecondAdminSecret);
        Assert.True((await users.CreateAsync(user, SecondAdminPassword)).Succeeded);
        await users.AddToRoleAsync(user, "admin");
    }

    private async Task<HttpClient> SignInCreatedAsync(string username)
    {
        var (access, _) = await IdentityClient.TokensAsync(await _identity.PasswordGrantAsync(username, SecondAdminPassword, _identity.NextCode(SecondAdminSecret)));
        return _server.ClientWithToken(access);
    }

    private const string SecondAdminPassword = "Second-Admin-Pass-9431";
    private const string SecondAdminSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    private async Task<IList<string>> RolesAsync(string username)
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        return await users.GetRolesAsync((await users.FindByNameAsync(username))!);
    }

    private async Task<List<OpenSpe.Core.Audit.AuditRow>> RowsAsync()
    {
        await using var connection = await _server.Database.OpenConnectionAsync();
        return AuditStore.ReadRows(connection).Select(r => r.Clone()).ToList();
    }
}
