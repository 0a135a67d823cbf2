using System.Text;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Tests.Infrastructure;
using static OpenSpe.Cli.Tests.Crypt4ghCli.Crypt4ghCliRunner;

namespace OpenSpe.Cli.Tests.Cli;

/// <summary>
/// The offline verbs given hostile input answer with one line on standard error and exit 1, never a stack trace: a review
/// found a manifest with a null field (which anyone holding the backup public key can encrypt) and an all-zero recipient
/// key both ending in "Unhandled exception" and the runtime's stack trace.
/// </summary>
public sealed class HostileOfflineInputCliTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string> NullFields() => new()
    {
        """{"manifest":null,"keyId":"k","timestampMicros":1,"signature":"AA=="}""",
        Signed("""{"format":"openspe-backup-manifest 1","createdAt":"2026-12-01T00:00:00Z","database":"sqlite","pieces":null,"shredded":[]}"""),
        Signed("""{"format":"openspe-backup-manifest 1","createdAt":"2026-12-01T00:00:00Z","database":"sqlite","pieces":[{"sequence":1,"kind":"file","size":1,"sha256":"00","cipherSha256":"00"}],"shredded":[]}"""),
    };

    [Theory]
    [MemberData(nameof(NullFields))]
    [Trait("Requirement", "OPR-21")]
    public async Task A_manifest_with_a_missing_field_is_refused_in_one_line_and_nothing_is_written(string signedManifest)
    {
        using var key = Crypt4ghPrivateKey.Generate();
        await File.WriteAllTextAsync(_directory.File("backup.sec"), key.ToPem(null, Crypt4ghKdf.None), TestContext.Current.CancellationToken);
        var backup = _directory.File("backup");
        Directory.CreateDirectory(backup);
        await File.WriteAllTextAsync(Path.Combine(backup, "FORMAT"), "openspe-backup 1\n", TestContext.Current.CancellationToken);
        using (var manifest = File.Create(Path.Combine(backup, "manifest.c4gh")))
        {
            Crypt4ghFile.Encrypt(new MemoryStream(Encoding.UTF8.GetBytes(signedManifest)), manifest, [key.PublicKey]);
        }

        var restore = await SpeProcess.RunAsync("backup", "restore", backup, "--sk", _directory.File("backup.sec"), "--data-dir", _directory.File("restored"));
        var verify = await SpeProcess.RunAsync("backup", "verify", backup, "--sk", _directory.File("backup.sec"));

        Assert.Equal(1, restore.ExitCode);
        Assert.StartsWith("spe backup restore: manifest.c4gh is not a backup manifest", restore.Stderr, StringComparison.Ordinal);
        Assert.Single(restore.Stderr.TrimEnd().Split('\n'));
        Assert.False(Directory.Exists(_directory.File("restored")));
        Assert.Equal(1, verify.ExitCode);
        Assert.StartsWith("spe backup verify: manifest.c4gh is not a backup manifest", verify.Stderr, StringComparison.Ordinal);
        Assert.Single(verify.Stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task A_low_order_recipient_key_is_refused_in_one_line_before_anything_is_written()
    {
        var zero = _directory.File("zero.pub");
        await File.WriteAllTextAsync(zero, "-----BEGIN CRYPT4GH PUBLIC KEY-----\n" + Convert.ToBase64String(new byte[32]) + "\n-----END CRYPT4GH PUBLIC KEY-----\n",
            TestContext.Current.CancellationToken);

        var run = await RunAsync("secret"u8.ToArray(), null, "crypt4gh", "encrypt", "--recipient-pk", zero);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"spe crypt4gh encrypt: {zero}: the public key is a low-order point, to which nothing can be encrypted", run.Stderr.TrimEnd());
        Assert.Empty(run.Stdout);
    }

    private static string Signed(string manifest) =>
        $$"""{"manifest":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(manifest))}}","keyId":"k","timestampMicros":1,"signature":"AA=="}""";
}
