using System.Text.Json;
using OpenSpe.Cli.Tests.CliClient;
using OpenSpe.Server.Tests.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>`spe login` against a real `spe server --dev` pipeline with a dev account, scripted as an operator would (EHDSR-5, SPER-8, TIR-3).</summary>
public sealed class CliLoginTests : IAsyncLifetime
{
    private SpeTestServer _server = null!;
    private IdentityClient _identity = null!;
    private TempDirectory _config = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SpeTestServer.StartAsync();
        _identity = new IdentityClient(_server);
        _config = new TempDirectory();
    }

    public async ValueTask DisposeAsync()
    {
        _config.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    [Trait("Requirement", "SPER-8")]
    public async Task Login_whoami_and_logout_work_end_to_end_with_a_dev_account()
    {
        var account = _identity.Account("auditor");
        var url = _server.BaseAddress.AbsoluteUri;

        var login = await SpeClientProcess.RunAsync(_config.Path, account.Password + "\n",
            "login", "--server", url, "--user", "auditor", "--password-stdin", "--otp", _identity.NextCode(account.TotpSecret), "--ca-fingerprint", _server.Info.CertificateFingerprint);
        var whoami = await SpeClientProcess.RunAsync(_config.Path, null, "whoami", "--json");
        var credentials = Path.Combine(_config.Path, "credentials.json");
        var mode = File.GetUnixFileMode(credentials);
        var refreshToken = JsonDocument.Parse(await File.ReadAllTextAsync(credentials)).RootElement.GetProperty("refreshToken").GetString()!;
        var logout = await SpeClientProcess.RunAsync(_config.Path, null, "logout");
        var afterLogout = await _identity.RefreshAsync(refreshToken);
        var whoamiAfter = await SpeClientProcess.RunAsync(_config.Path, null, "whoami");

        Assert.True(login.ExitCode == 0, login.Stderr);
        Assert.True(whoami.ExitCode == 0, whoami.Stderr);
        var me = JsonDocument.Parse(whoami.Stdout).RootElement;
        Assert.Equal("auditor", me.GetProperty("username").GetString());
        Assert.Contains("otp", me.GetProperty("authenticationMethods").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        Assert.Equal(0, logout.ExitCode);
        Assert.Equal("invalid_grant", await IdentityClient.OAuthErrorAsync(afterLogout));
        Assert.NotEqual(0, whoamiAfter.ExitCode);
        Assert.False(File.Exists(credentials));
    }

    [Fact]
    [Trait("Requirement", "EHDSR-5")]
    public async Task Login_with_a_wrong_code_fails_with_exit_1_and_keeps_no_session()
    {
        var account = _identity.Account("researcher");

        var login = await SpeClientProcess.RunAsync(_config.Path, account.Password + "\n",
            "login", "--server", _server.BaseAddress.AbsoluteUri, "--user", "researcher", "--password-stdin", "--otp", "000000", "--ca-fingerprint", _server.Info.CertificateFingerprint);

        Assert.Equal(1, login.ExitCode);
        Assert.False(File.Exists(Path.Combine(_config.Path, "credentials.json")));
    }

    [Fact]
    [Trait("Requirement", "TIR-3")]
    public async Task Login_without_a_pin_refuses_the_self_signed_certificate()
    {
        var account = _identity.Account("researcher");

        var login = await SpeClientProcess.RunAsync(_config.Path, account.Password + "\n",
            "login", "--server", _server.BaseAddress.AbsoluteUri, "--user", "researcher", "--password-stdin", "--otp", _identity.NextCode(account.TotpSecret));

        Assert.Equal(1, login.ExitCode);
        Assert.False(File.Exists(Path.Combine(_config.Path, "credentials.json")));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public async Task Admin_creates_a_user_from_the_cli()
    {
        var account = _identity.Account("admin");
        await SpeClientProcess.RunAsync(_config.Path, account.Password + "\n",
            "login", "--server", _server.BaseAddress.AbsoluteUri, "--user", "admin", "--password-stdin", "--otp", _identity.NextCode(account.TotpSecret), "--ca-fingerprint", _server.Info.CertificateFingerprint);

        var create = await SpeClientProcess.RunAsync(_config.Path, null, "admin", "user", "create", "carol", "--role", "researcher", "--json");
        var list = await SpeClientProcess.RunAsync(_config.Path, null, "admin", "user", "list");

        Assert.True(create.ExitCode == 0, create.Stderr + create.Stdout);
        Assert.Contains("carol", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("researcher", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("password", create.Stdout, StringComparison.OrdinalIgnoreCase);

        // The person, on their own machine, sets their password with the link, then signs in to enrol.
        var link = JsonDocument.Parse(create.Stdout).RootElement.GetProperty("enrolmentUrl").GetString()!;
        using var carolConfig = new TempDirectory();
        const string password = "Correct-Horse-Battery-Staple-4";
        var activate = await SpeClientProcess.RunAsync(carolConfig.Path, password + "\n", "account", "activate", link, "--ca-fingerprint", _server.Info.CertificateFingerprint, "--password-stdin");
        var again = await SpeClientProcess.RunAsync(carolConfig.Path, "Another-Long-Passphrase\n", "account", "activate", link, "--ca-fingerprint", _server.Info.CertificateFingerprint, "--password-stdin");
        var malformed = await SpeClientProcess.RunAsync(carolConfig.Path, password + "\n", "account", "activate", "http://not-a-link", "--password-stdin");
        var login = await SpeClientProcess.RunAsync(carolConfig.Path, password + "\n",
            "login", "--server", _server.BaseAddress.AbsoluteUri, "--user", "carol", "--password-stdin", "--ca-fingerprint", _server.Info.CertificateFingerprint);

        Assert.True(activate.ExitCode == 0, activate.Stderr + activate.Stdout);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("not valid", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, malformed.ExitCode);
        Assert.True(login.ExitCode == 0, login.Stderr + login.Stdout);
        Assert.Contains("enrol-totp", login.Stderr + login.Stdout, StringComparison.Ordinal);
    }
}
