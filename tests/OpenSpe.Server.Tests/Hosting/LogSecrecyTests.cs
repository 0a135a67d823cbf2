using System.Net;
using System.Text.RegularExpressions;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>
/// Nothing a person types to sign in reaches the server's log (issue #11 item 8: one-time codes were
/// logged in clear with the token request). Runs the real `spe server`, with OpenIddict's request narration turned
/// back on (it ships at Warning, see <see cref="OperatorLogTests"/>), because an operator debugging sign-ins will turn it on.
/// </summary>
public sealed partial class LogSecrecyTests
{
    [Fact]
    public async Task Sign_ins_leave_no_password_code_or_recovery_code_in_the_log()
    {
        using var directory = new TempDirectory();
        await using var server = await SpeServerProcess.StartAsync(directory.File("data"), new Dictionary<string, string>
        {
            ["SPE__Logging__LogLevel__OpenIddict"] = "Information",
        });
        var account = server.Accounts().Single(a => a.Username == "researcher");
        var code = Totp.Compute(Base32.Decode(account.TotpSecret), Totp.StepAt(DateTimeOffset.UtcNow));
        // A wrong code and a made-up recovery code are secrets too (a typo of the real one, or the real one of another account).
        var wrongCode = ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        const string RecoveryCode = "RCVRY-7Q4ZK-9XW2M";
        const string WrongPassword = "Wrong-Passw0rd-Zebra-Kettle";
        using var client = server.Client();

        using (var signedIn = await TokenAsync(client, account.Username, account.Password, ("otp", code)))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        using (var refused = await TokenAsync(client, account.Username, account.Password, ("otp", wrongCode)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using (var refused = await TokenAsync(client, account.Username, account.Password, ("recovery_code", RecoveryCode)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using (var refused = await TokenAsync(client, account.Username, WrongPassword, ("otp", wrongCode)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var log = await server.StopAsync();

        // Note: the log did record these requests (so the check below looks at real request logging, not at silence).
        Assert.Contains("The token request was successfully extracted", log, StringComparison.Ordinal);
        Assert.DoesNotContain(account.Password, log, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, log, StringComparison.Ordinal);
        Assert.DoesNotContain(RecoveryCode, log, StringComparison.Ordinal);
        Assert.DoesNotMatch(SecretParameterWithValue(), log);
        Assert.DoesNotContain(code, log, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongCode, log, StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> TokenAsync(HttpClient client, string username, string password, (string Name, string Value) second) =>
        client.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "spe-cli",
            ["username"] = username,
            ["password"] = password,
            ["scope"] = "openid offline_access",
            [second.Name] = second.Value,
        }));

    [GeneratedRegex("\"(otp|recovery_code|password)\"\\s*:\\s*\"(?!\\[redacted\\])")]
    private static partial Regex SecretParameterWithValue();
}
