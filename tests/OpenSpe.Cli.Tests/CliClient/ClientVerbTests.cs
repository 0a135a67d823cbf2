using System.Text.Json;
using OpenSpe.Cli.Client;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>
/// The client verbs in process against the fake server (<see cref="FakeSpeServer"/>): exit codes
/// 0/1/2, stdout for data and stderr for guidance, tables by default and --json, complete help.
/// End-to-end runs against the real server live with the identity server tests.
/// </summary>
public sealed class ClientVerbTests
{
    private static readonly string Server = ClientHarness.Address.ToString();

    [Fact]
    public async Task Fake_server_login_with_password_stdin_and_otp_keeps_a_0600_session_with_the_pin()
    {
        using var harness = new ClientHarness();
        harness.Input.Stdin.Enqueue(harness.Server.Password);
        var pin = string.Join(':', Enumerable.Repeat("AB", 32));

        var (code, stdout, stderr) = await harness.RunAsync("login", "--server", "https://spe.test:8443", "--user", "alice", "--password-stdin", "--otp", "123 456", "--ca-fingerprint", pin);

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Equal($"Signed in to {Server} as alice (roles: researcher).", stdout.Trim());
        var stored = harness.Store.Load()!;
        Assert.Equal((Server, "alice", string.Concat(Enumerable.Repeat("ab", 32))), (stored.Server, stored.Username, stored.CaFingerprint));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(harness.Store.Path));
        var form = harness.Server.Forms.First();
        Assert.Equal(("password", "spe-cli", "123456", "openid offline_access"), (form["grant_type"], form["client_id"], form["otp"], form["scope"]));
    }

    [Fact]
    public async Task Fake_server_login_on_a_terminal_prompts_for_the_password_without_echo_and_for_the_code()
    {
        using var harness = new ClientHarness();
        harness.Input.IsTerminal = true;
        harness.Input.Answers.Enqueue(harness.Server.Password);
        harness.Input.Answers.Enqueue("123456");

        var (code, _, _) = await harness.RunAsync("login", "--server", Server, "--user", "alice");

        Assert.Equal(0, code);
        Assert.Equal([false, true], harness.Input.Prompts.Select(p => p.Echo));
    }

    [Fact]
    public async Task Fake_server_password_only_login_of_an_unenrolled_account_says_to_enrol()
    {
        using var harness = new ClientHarness();
        harness.Server.MfaEnrolled = false;
        harness.Input.Stdin.Enqueue(harness.Server.Password);

        var (code, stdout, stderr) = await harness.RunAsync("login", "--server", Server, "--user", "alice", "--password-stdin");

        Assert.Equal(0, code);
        Assert.Contains("with a password only", stdout, StringComparison.Ordinal);
        Assert.Contains("spe account enrol-totp", stderr, StringComparison.Ordinal);
        Assert.NotNull(harness.Store.Load());
    }

    [Fact]
    public async Task Fake_server_login_without_a_code_on_an_enrolled_account_fails_and_says_the_code_may_be_missing()
    {
        using var harness = new ClientHarness();
        harness.Input.Stdin.Enqueue(harness.Server.Password);

        var (code, _, stderr) = await harness.RunAsync("login", "--server", Server, "--user", "alice", "--password-stdin");

        Assert.Equal(1, code);
        Assert.Contains("The credentials are invalid.", stderr, StringComparison.Ordinal);
        Assert.Contains("--otp", stderr, StringComparison.Ordinal);
        Assert.Null(harness.Store.Load());
    }

    [Theory]
    [InlineData(false, "--server", "https://spe.test:8443", "--user", "alice")]
    [InlineData(true, "--server", "http://spe.test", "--user", "alice", "--password-stdin")]
    [InlineData(true, "--server", "https://spe.test", "--user", "alice", "--password-stdin", "--otp", "123456", "--recovery-code", "ABCD-EFGH")]
    [InlineData(true, "--server", "https://spe.test", "--user", "alice", "--password-stdin", "--otp", "12345")]
    [InlineData(true, "--server", "https://spe.test", "--user", "alice", "--password-stdin", "--ca-fingerprint", "abc")]
    [InlineData(true, "--server", "https://spe.test", "--device", "--password-stdin")]
    [InlineData(true, "--user", "alice", "--password-stdin")]
    public async Task Fake_server_login_that_cannot_work_as_given_exits_2_before_any_request(bool passwordOnStdin, params string[] args)
    {
        using var harness = new ClientHarness();
        if (passwordOnStdin)
        {
            harness.Input.Stdin.Enqueue(harness.Server.Password);
        }

        var (code, stdout, stderr) = await harness.RunAsync(["login", .. args]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("spe: ", stderr, StringComparison.Ordinal);
        Assert.Contains("'spe login --help'", stderr, StringComparison.Ordinal);
        Assert.Empty(harness.Server.Requests);
    }

    [Fact]
    public async Task Fake_server_a_wrong_password_exits_1_with_the_oauth_error_and_keeps_no_session()
    {
        using var harness = new ClientHarness();
        harness.Input.Stdin.Enqueue("wrong");

        var (code, _, stderr) = await harness.RunAsync("login", "--server", Server, "--user", "alice", "--password-stdin", "--otp", "123456");

        Assert.Equal(1, code);
        Assert.Equal("spe: sign-in refused: The credentials are invalid. (invalid_grant)", stderr.Trim());
        Assert.Null(harness.Store.Load());
    }

    [Fact]
    public async Task Fake_server_device_login_prints_the_url_and_code_on_stderr()
    {
        using var harness = new ClientHarness();
        harness.Server.DevicePendingPolls = 0;

        var running = harness.RunAsync("login", "--server", Server, "--device");
        var waited = await harness.Time.AdvanceUntilDoneAsync(running, maxTimers: 5, TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.FromSeconds(5), waited); // one poll, at the server's 5 s interval
        var (code, stdout, stderr) = await running;
        Assert.Equal(0, code);
        Assert.Contains("https://spe.test/device?user_code=WDJB-MJHT", stderr, StringComparison.Ordinal);
        Assert.Contains("WDJB-MJHT", stderr, StringComparison.Ordinal);
        Assert.Contains("as alice", stdout, StringComparison.Ordinal);
        Assert.Equal("alice", harness.Store.Load()!.Username);
    }

    [Fact]
    public async Task Fake_server_whoami_prints_a_table_or_json()
    {
        using var harness = new ClientHarness();
        harness.SignIn();

        var (code, table, _) = await harness.RunAsync("whoami");
        var (jsonCode, json, _) = await harness.RunAsync("whoami", "--json");

        Assert.Equal((0, 0), (code, jsonCode));
        Assert.Contains("Username", table, StringComparison.Ordinal);
        Assert.Contains("pwd, otp", table, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        Assert.Equal("alice", document.RootElement.GetProperty("username").GetString());
        Assert.Equal(Server, document.RootElement.GetProperty("server").GetString());
        Assert.True(document.RootElement.GetProperty("mfaEnrolled").GetBoolean());
    }

    [Fact]
    public async Task Fake_server_whoami_signed_out_exits_1_with_the_hint()
    {
        using var harness = new ClientHarness();

        var (code, stdout, stderr) = await harness.RunAsync("whoami");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("spe: not signed in: run 'spe login --server URL --user NAME' first", stderr.Trim());
    }

    [Fact]
    public async Task Fake_server_a_problem_answer_is_one_line_with_code_and_trace()
    {
        using var harness = new ClientHarness();
        harness.SignIn(mfa: false);

        var (code, _, stderr) = await harness.RunAsync("admin", "user", "list");

        Assert.Equal(1, code);
        Assert.Equal("spe: This session has no second factor: enrol one first. (SPE1006, trace 0af7651916cd43dd8448eb211c80319c)\n", stderr);
    }

    [Fact]
    public async Task Fake_server_logout_revokes_the_refresh_token_then_forgets_the_session()
    {
        using var harness = new ClientHarness();
        var credentials = harness.SignIn();

        var (code, stdout, _) = await harness.RunAsync("logout");

        Assert.Equal(0, code);
        Assert.Contains("Signed out", stdout, StringComparison.Ordinal);
        Assert.False(harness.Server.IsRefreshTokenValid(credentials.RefreshToken!));
        var form = harness.Server.Forms.Single();
        Assert.Equal(("refresh_token", "spe-cli"), (form["token_type_hint"], form["client_id"]));
        Assert.Null(harness.Store.Load());
        Assert.Equal("Not signed in.", (await harness.RunAsync("logout")).Stdout.Trim());
    }

    [Fact]
    public async Task Fake_server_logout_with_the_server_unreachable_still_forgets_the_session_and_says_so()
    {
        using var harness = new ClientHarness();
        harness.SignIn();
        harness.Server.Unreachable = true;

        var (code, stdout, stderr) = await harness.RunAsync("logout");

        Assert.Equal(0, code);
        Assert.Contains("Signed out", stdout, StringComparison.Ordinal);
        Assert.Contains("could not revoke", stderr, StringComparison.Ordinal);
        Assert.Contains("cannot reach https://spe.test:8443", stderr, StringComparison.Ordinal);
        Assert.Null(harness.Store.Load());
    }

    [Fact]
    public async Task Fake_server_enrol_totp_without_a_terminal_prints_the_secret_then_confirms_with_code()
    {
        using var harness = new ClientHarness();
        harness.SignIn(mfa: false);
        harness.Server.Routes["POST /api/v1/account/totp"] = (System.Net.HttpStatusCode.OK, """{"secret":"JBSWY3DPEHPK3PXP","otpauthUri":"otpauth://totp/OpenSPE:alice?secret=JBSWY3DPEHPK3PXP"}""");
        harness.Server.Routes["POST /api/v1/account/totp/confirm"] = (System.Net.HttpStatusCode.OK, """{"recoveryCodes":["AAAA-BBBB","CCCC-DDDD"]}""");

        var (code, stdout, stderr) = await harness.RunAsync("account", "enrol-totp");
        var (confirmCode, codes, _) = await harness.RunAsync("account", "enrol-totp", "--code", "654321", "--json");

        Assert.Equal((0, 0), (code, confirmCode));
        Assert.Contains("JBSWY3DPEHPK3PXP", stdout, StringComparison.Ordinal);
        Assert.Contains("--code", stderr, StringComparison.Ordinal);
        Assert.Equal("""{"code":"654321"}""", harness.Server.Bodies.Last());
        using var document = JsonDocument.Parse(codes);
        Assert.Equal(2, document.RootElement.GetProperty("recoveryCodes").GetArrayLength());
    }

    [Fact]
    public async Task Fake_server_password_change_reads_two_lines_from_stdin()
    {
        using var harness = new ClientHarness();
        harness.SignIn();
        harness.Server.Routes["POST /api/v1/account/password"] = (System.Net.HttpStatusCode.NoContent, null);
        harness.Input.Stdin.Enqueue("old password 1");
        harness.Input.Stdin.Enqueue("new password 2");

        var (code, stdout, _) = await harness.RunAsync("account", "password", "--password-stdin");

        Assert.Equal(0, code);
        Assert.Equal("Password changed.", stdout.Trim());
        Assert.Equal("""{"currentPassword":"old password 1","newPassword":"new password 2"}""", harness.Server.Bodies.Single());
    }

    [Fact]
    public async Task Fake_server_admin_user_list_is_a_table_by_default_and_json_on_request()
    {
        using var harness = new ClientHarness();
        harness.SignIn();
        harness.Server.Routes["GET /api/v1/admin/users"] = (System.Net.HttpStatusCode.OK,
            """[{"username":"bob","roles":["researcher","auditor"],"disabled":false,"mfaEnrolled":true},{"username":"carol","roles":[],"disabled":true,"mfaEnrolled":false}]""");

        var (code, table, _) = await harness.RunAsync("admin", "user", "list");
        var (_, json, _) = await harness.RunAsync("admin", "user", "list", "--json");

        Assert.Equal(0, code);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("USERNAME", lines[0], StringComparison.Ordinal);
        Assert.Contains("researcher,auditor", lines[1], StringComparison.Ordinal);
        Assert.Contains("yes", lines[2], StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(2, document.RootElement.GetArrayLength());
    }

    [Fact]
    [Trait("Requirement", "FSPER-2")]
    public async Task Fake_server_admin_user_list_shows_each_external_identity_in_the_table_one_per_line()
    {
        using var harness = new ClientHarness();
        harness.SignIn();
        harness.Server.Routes["GET /api/v1/admin/users"] = (System.Net.HttpStatusCode.OK,
            """
            [{"username":"bob","roles":["researcher"],"disabled":false,"mfaEnrolled":true,"externalIdentities":[
              {"issuer":"https://idp.example.org/realms/a","subject":"b0b-1"},{"issuer":"https://login.example.eu","subject":"bob with space"}]},
             {"username":"carol","roles":["auditor"],"disabled":false,"mfaEnrolled":true,"externalIdentities":[]},
             {"username":"dave","roles":[],"disabled":false,"mfaEnrolled":false}]
            """);

        var (code, table, stderr) = await harness.RunAsync("admin", "user", "list");

        Assert.True(code == 0, stderr);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Matches("^USERNAME +ROLES +DISABLED +MFA +EXTERNAL ISSUER +EXTERNAL SUBJECT$", lines[0]);
        Assert.Matches(@"^bob +researcher +no +yes +https://idp\.example\.org/realms/a +b0b-1$", lines[1]);
        // The second identity under its account, the account's cells empty, its subject whole with its space.
        Assert.Matches(@"^ +https://login\.example\.eu +bob with space$", lines[2]);
        Assert.Equal(lines[1].IndexOf("https://", StringComparison.Ordinal), lines[2].IndexOf("https://", StringComparison.Ordinal));
        Assert.Matches("^carol +auditor +no +yes$", lines[3]);
        Assert.Matches("^dave +no +no$", lines[4]);
    }

    [Theory]
    [InlineData("GET /api/v1/admin/users", "No accounts.", "admin", "user", "list")]
    [InlineData("GET /api/v1/admin/clients", "No applications registered.", "admin", "client", "list")]
    [InlineData("GET /api/v1/admin/role-grants", "No role grants waiting for approval.", "admin", "role-grants", "list")]
    public async Task Fake_server_an_empty_admin_list_says_so_in_one_line_and_json_is_an_empty_array(string route, string message, params string[] args)
    {
        using var harness = new ClientHarness();
        harness.SignIn();
        harness.Server.Routes[route] = (System.Net.HttpStatusCode.OK, "[]");

        var (code, stdout, stderr) = await harness.RunAsync(args);
        var (jsonCode, json, _) = await harness.RunAsync([.. args, "--json"]);

        Assert.Equal((0, 0), (code, jsonCode));
        Assert.Equal((message + "\n", ""), (stdout, stderr));
        Assert.Equal("[]", json.Trim());
    }

    [Fact]
    public async Task Fake_server_granting_admin_waits_for_a_second_admin_and_says_how_to_approve()
    {
        using var harness = new ClientHarness();
        harness.SignIn();
        harness.Server.Routes["PUT /api/v1/admin/users/bob/roles/admin"] = (System.Net.HttpStatusCode.Accepted, """{"status":"pending-approval","approvalId":"42"}""");

        var (code, stdout, stderr) = await harness.RunAsync("admin", "user", "grant", "bob", "admin");

        Assert.Equal(0, code);
        Assert.Contains("pending-approval", stdout, StringComparison.Ordinal);
        Assert.Contains("spe admin role-grants approve 42", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fake_server_unknown_roles_are_a_usage_error()
    {
        using var harness = new ClientHarness();
        harness.SignIn();

        Assert.Equal(2, (await harness.RunAsync("admin", "user", "grant", "bob", "superuser")).Code);
        Assert.Equal(2, (await harness.RunAsync("admin", "user", "create", "bob", "--role", "root")).Code);
        Assert.Empty(harness.Server.Requests);
    }

    [Theory]
    [InlineData("login", "--server", "--user", "--password-stdin", "--otp", "--recovery-code", "--ca-fingerprint", "--device")]
    [InlineData("whoami", "--json")]
    [InlineData("logout", "Revoke")]
    [InlineData("account enrol-totp", "--code", "--json")]
    [InlineData("account password", "--password-stdin")]
    [InlineData("admin user create", "<username>", "--role", "--json")]
    [InlineData("admin user list", "--json")]
    [InlineData("admin user disable", "<username>", "--json")]
    [InlineData("admin user enable", "<username>", "--json")]
    [InlineData("admin user grant", "<username>", "<role>", "--json")]
    [InlineData("admin user revoke", "<username>", "<role>", "--json")]
    [InlineData("admin user reset-mfa", "<username>", "--json")]
    [InlineData("admin role-grants list", "--json")]
    [InlineData("admin role-grants approve", "<id>", "--json")]
    [InlineData("admin user enrolment", "<username>", "--json")]
    [InlineData("admin client create", "<client-id>", "--name", "--json")]
    [InlineData("admin client list", "--json")]
    [InlineData("admin client delete", "<client-id>", "--json")]
    [InlineData("account activate", "<link>", "--ca-fingerprint", "--password-stdin")]
    public async Task Every_client_verb_documents_its_options(string verb, params string[] expected)
    {
        using var harness = new ClientHarness();

        var (code, stdout, _) = await harness.RunAsync([.. verb.Split(' '), "--help"]);

        Assert.Equal(0, code);
        Assert.All(expected, e => Assert.Contains(e, stdout, StringComparison.Ordinal));
    }
}
