using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenSpe.Core.Federation;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Cli.Tests.FederationCli;

/// <summary>
/// <c>spe federation ca init</c>, <c>cert issue</c> and <c>cert revoke</c> run as the real executable: the chain a node builds, the key
/// files' modes, the revocation list a node reads, and the refusals.
/// </summary>
public sealed class FederationCaCliTests
{
    [Fact]
    [Trait("Requirement", "FSPER-1")]
    [Trait("Requirement", "TIR-31")]
    public async Task Init_issue_and_revoke_make_a_chain_and_a_revocation_list_a_node_reads()
    {
        using var temp = new TempDirectory();
        var ca = temp.File("CA");
        var node = temp.File("node-a");

        Assert.Equal(0, (await SpeProcess.RunAsync("federation", "ca", "init", "--dir", ca)).ExitCode);
        var issue = await SpeProcess.RunAsync("federation", "cert", "issue", "--ca", ca, "--name", "node-a", "--out", node, "--days", "30");
        Assert.True(issue.ExitCode == 0, issue.Stderr);

        using var root = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(ca, "ca.crt")));
        using var certificate = X509Certificate2.CreateFromPemFile(Path.Combine(node, "node-a.crt"), Path.Combine(node, "node-a.key"));
        Assert.Equal("node-a", certificate.GetNameInfo(X509NameType.SimpleName, false));
        Assert.Equal("node-a", certificate.GetNameInfo(X509NameType.DnsName, false));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(node, "node-a.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(ca, "ca.key")));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certificate));
        var before = FederationCrl.Parse(File.ReadAllText(Path.Combine(ca, "ca.crl")), root);
        Assert.False(before.IsRevoked(certificate));

        var revoke = await SpeProcess.RunAsync("federation", "cert", "revoke", "--ca", ca, "--name", "node-a");

        Assert.True(revoke.ExitCode == 0, revoke.Stderr);
        var after = FederationCrl.Parse(File.ReadAllText(Path.Combine(ca, "ca.crl")), root);
        Assert.True(after.IsRevoked(certificate));
        Assert.True(after.Number > before.Number);
    }

    [Fact]
    [Trait("Requirement", "TIR-31")]
    public async Task Init_refuses_a_directory_that_holds_a_CA_and_keeps_its_key()
    {
        using var temp = new TempDirectory();
        var ca = temp.File("CA");
        Assert.Equal(0, (await SpeProcess.RunAsync("federation", "ca", "init", "--dir", ca)).ExitCode);
        var key = File.ReadAllText(Path.Combine(ca, "ca.key"));

        var (code, _, stderr) = await SpeProcess.RunAsync("federation", "ca", "init", "--dir", ca);

        Assert.Equal(1, code);
        Assert.Contains("already holds a federation CA", stderr, StringComparison.Ordinal);
        Assert.Equal(key, File.ReadAllText(Path.Combine(ca, "ca.key")));
    }

    [Theory]
    [Trait("Requirement", "TIR-31")]
    [InlineData("Node_A")]
    [InlineData("-node")]
    [InlineData("node a")]
    public async Task Issue_refuses_a_name_that_is_not_a_node_name(string name)
    {
        using var temp = new TempDirectory();
        var ca = temp.File("CA");
        Assert.Equal(0, (await SpeProcess.RunAsync("federation", "ca", "init", "--dir", ca)).ExitCode);

        var (code, _, stderr) = await SpeProcess.RunAsync("federation", "cert", "issue", "--ca", ca, "--name", name, "--out", temp.File("out"));

        Assert.Equal(1, code);
        Assert.Contains("not a node name", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.File("out")) && Directory.EnumerateFiles(temp.File("out")).Any());
    }

    [Fact]
    [Trait("Requirement", "TIR-31")]
    public async Task Issue_without_a_CA_and_revoke_of_an_unknown_node_fail_with_one_line()
    {
        using var temp = new TempDirectory();
        var ca = temp.File("CA");

        var issue = await SpeProcess.RunAsync("federation", "cert", "issue", "--ca", ca, "--name", "node-a", "--out", temp.File("out"));
        Assert.Equal(0, (await SpeProcess.RunAsync("federation", "ca", "init", "--dir", ca)).ExitCode);
        var revoke = await SpeProcess.RunAsync("federation", "cert", "revoke", "--ca", ca, "--name", "node-z");

        Assert.Equal(1, issue.ExitCode);
        Assert.Contains("holds no federation CA", issue.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, revoke.ExitCode);
        Assert.Contains("issued no certificate to 'node-z'", revoke.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "TIR-31")]
    public void A_revocation_list_from_another_CA_or_altered_is_refused()
    {
        using var temp = new TempDirectory();
        using var ours = FederationCa.Create(temp.File("ours"), "ours", DateTimeOffset.UtcNow, TimeSpan.FromDays(10));
        using var theirs = FederationCa.Create(temp.File("theirs"), "theirs", DateTimeOffset.UtcNow, TimeSpan.FromDays(10));
        var pem = File.ReadAllText(ours.CrlPath);
        var der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^80] ^= 1;

        Assert.NotNull(FederationCrl.Parse(pem, ours.Certificate));
        Assert.Throws<CryptographicException>(() => FederationCrl.Parse(File.ReadAllText(theirs.CrlPath), ours.Certificate));
        Assert.Throws<CryptographicException>(() => FederationCrl.Parse(der, ours.Certificate));
    }

    [Fact]
    [Trait("Requirement", "FSPER-1")]
    public async Task A_ca_or_node_directory_other_users_can_write_to_is_refused_and_no_file_is_written_through_a_planted_link()
    {
        // A review found init accepted an existing 0777 directory, and wrote the revocation list through a symbolic link another
        // user had planted at ca.crl.tmp, over the file it named.
        using var temp = new TempDirectory();
        var shared = temp.File("shared");
        Directory.CreateDirectory(shared);
        File.SetUnixFileMode(shared, (UnixFileMode)0b111_111_111);
        var victim = temp.File("victim");
        await File.WriteAllTextAsync(victim, "important", TestContext.Current.CancellationToken);
        File.CreateSymbolicLink(Path.Combine(shared, "ca.crl.tmp"), victim);
        var ca = temp.File("CA");
        Assert.Equal(0, (await SpeProcess.RunAsync("federation", "ca", "init", "--dir", ca)).ExitCode);
        var node = temp.File("node");
        Directory.CreateDirectory(node);
        File.SetUnixFileMode(node, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupWrite);

        var init = await SpeProcess.RunAsync("federation", "ca", "init", "--dir", shared);
        var issue = await SpeProcess.RunAsync("federation", "cert", "issue", "--ca", ca, "--name", "node-a", "--out", node);
        File.SetUnixFileMode(ca, (UnixFileMode)0b111_101_111);
        var issueFromShared = await SpeProcess.RunAsync("federation", "cert", "issue", "--ca", ca, "--name", "node-b", "--out", temp.File("node-b"));

        Assert.Equal(1, init.ExitCode);
        Assert.Equal($"spe federation ca init: {shared} can be written by other users (mode 777); a CA's files go in a directory only its owner can write to (chmod go-w)",
            init.Stderr.TrimEnd());
        Assert.Equal("important", await File.ReadAllTextAsync(victim, TestContext.Current.CancellationToken));
        Assert.False(File.Exists(Path.Combine(shared, "ca.key")));
        Assert.Equal(1, issue.ExitCode);
        Assert.Contains("can be written by other users (mode 720)", issue.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(node));
        Assert.Equal(1, issueFromShared.ExitCode);
        Assert.Contains("can be written by other users (mode 757)", issueFromShared.Stderr, StringComparison.Ordinal);
    }
}
