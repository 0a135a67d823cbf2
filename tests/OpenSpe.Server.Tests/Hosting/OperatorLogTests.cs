using System.Net;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>
/// The log `spe server` writes at its shipped levels holds what an operator needs to read, not library
/// narration: a new user counted 173 of 205 lines as OpenIddict information messages and an antiforgery
/// warning on every view of the sign-in page (issue #12).
/// </summary>
public sealed class OperatorLogTests
{
    [Fact]
    public async Task Sign_ins_and_sign_in_pages_add_no_library_narration_to_the_default_log()
    {
        using var directory = new TempDirectory();
        await using var server = await SpeServerProcess.StartAsync(directory.File("data"));
        var account = server.Accounts().Single(a => a.Username == "researcher");
        using var client = server.Client();

        for (var i = 0; i < 3; i++)
        {
            using var page = await client.GetAsync(new Uri("/account/login", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("__RequestVerificationToken", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Contains("no-store", page.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        }

        var code = Totp.Compute(Base32.Decode(account.TotpSecret), Totp.StepAt(DateTimeOffset.UtcNow));
        using (var signedIn = await client.PostAsync(new Uri("/connect/token", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "spe-cli",
            ["username"] = account.Username,
            ["password"] = account.Password,
            ["otp"] = code,
            ["scope"] = "openid offline_access",
        })))
        {
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        }

        var log = await server.StopAsync();

        Assert.DoesNotContain("info: OpenIddict", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Antiforgery", log, StringComparison.Ordinal);
    }
}
