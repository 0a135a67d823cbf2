using System.Text.Json;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Hosting;

/// <summary>The embedded default: an owner-only data directory, a reused self-signed certificate, and seeded dev accounts.</summary>
public sealed class DevModeTests
{
    [Fact]
    [Trait("Requirement", "TIR-8")]
    public async Task Dev_server_creates_owner_only_data_and_seeds_every_role()
    {
        await using var server = await SpeTestServer.StartAsync(settings: new Dictionary<string, string?> { [TestDevAccounts.OwnAccountsSetting] = "true" });
        var data = Path.Combine(server.DataDirectory, "data");
        var accountsPath = Path.Combine(data, DevAccounts.FileName);

        var accounts = JsonDocument.Parse(await File.ReadAllTextAsync(accountsPath)).RootElement.EnumerateArray().ToList();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        foreach (var secret in new[] { DevAccounts.FileName, TlsCertificates.DevKeyName, "audit-signing.key", "token-signing.key" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data, secret)));
        }

        Assert.Equal(
            ["hdab", "checker", "checker2", "holder", "researcher", "researcher2", "operator", "auditor", "admin"],
            accounts.Select(a => a.GetProperty("username").GetString()));
        Assert.All(accounts, a =>
        {
            Assert.True(a.GetProperty("password").GetString()!.Length >= 16);
            Assert.Matches("^[A-Z2-7]{32}$", a.GetProperty("totpSecret").GetString());
            Assert.NotEmpty(a.GetProperty("roles").EnumerateArray());
        });
        Assert.Equal("output-checker", accounts[1].GetProperty("roles")[0].GetString());
        Assert.Equal("data-holder", accounts[3].GetProperty("roles")[0].GetString());
        Assert.Equal(64, server.Info.CertificateFingerprint.Length);
    }

    [Fact]
    public void Certificate_and_accounts_are_reused_on_the_next_start()
    {
        using var directory = new TempDirectory();
        var data = DataDirectory.Open(directory.File("data"));

        using var first = TlsCertificates.LoadOrCreateDev(data, TimeProvider.System);
        var accounts = DevAccounts.LoadOrCreate(data);
        using var second = TlsCertificates.LoadOrCreateDev(data, TimeProvider.System);
        var again = DevAccounts.LoadOrCreate(data);

        Assert.Equal(TlsCertificates.Fingerprint(first), TlsCertificates.Fingerprint(second));
        Assert.Equal(accounts.Select(a => a.Password), again.Select(a => a.Password));
        Assert.Contains(first.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses(),
            ip => ip.Equals(System.Net.IPAddress.Loopback));
    }
}
