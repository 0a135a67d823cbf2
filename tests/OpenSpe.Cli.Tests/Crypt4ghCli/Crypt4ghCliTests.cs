using System.Security.Cryptography;
using System.Text;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Tests.Infrastructure;
using static OpenSpe.Cli.Tests.Crypt4ghCli.Crypt4ghCliRunner;

namespace OpenSpe.Cli.Tests.Crypt4ghCli;

/// <summary>
/// <c>spe crypt4gh keygen|encrypt|decrypt|reencrypt</c> run as a user runs them: the real executable, bytes through
/// standard input and output, exit codes 0/1/2, and files from the GA4GH reference implementation.
/// </summary>
public sealed class Crypt4ghCliTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [Trait("Requirement", "SDR-4")]
    [InlineData("scrypt", "scrypt")]
    [InlineData("bcrypt", "bcrypt")]
    [InlineData("pbkdf2", "pbkdf2_hmac_sha256")]
    public async Task Keygen_locks_the_secret_key_with_each_kdf_and_writes_it_0600(string kdf, string storedName)
    {
        var (sk, pk) = (_directory.File("k.sec"), _directory.File("k.pub"));

        var run = await RunAsync([], Passphrase, "crypt4gh", "keygen", "--sk", sk, "--pk", pk, "--kdf", kdf, "--comment", "test key");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(sk));
        var text = await File.ReadAllTextAsync(sk);
        Assert.StartsWith("-----BEGIN CRYPT4GH ENCRYPTED PRIVATE KEY-----", text, StringComparison.Ordinal);
        Assert.Contains(Encoding.ASCII.GetBytes(storedName), KeyBody(text));
        using var key = Crypt4ghPrivateKey.Load(sk, () => Passphrase);
        Assert.Equal(Crypt4ghPublicKey.Load(pk), key.PublicKey);
        Assert.Equal("test key", key.Comment);
        Assert.Contains(key.PublicKey.Fingerprint, Encoding.UTF8.GetString(run.Stdout), StringComparison.Ordinal);
        Assert.Throws<Crypt4ghException>(() => Crypt4ghPrivateKey.Load(sk, () => "wrong"));
    }

    [Theory]
    [InlineData("--nocrypt")]
    [InlineData("--kdf", "none")]
    public async Task Keygen_without_encryption_writes_an_unlocked_key_and_needs_no_passphrase(params string[] option)
    {
        var (sk, pk) = (_directory.File("k.sec"), _directory.File("k.pub"));

        var run = await RunAsync([], null, ["crypt4gh", "keygen", "--sk", sk, "--pk", pk, .. option]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(sk));
        var text = await File.ReadAllTextAsync(sk);
        Assert.StartsWith("-----BEGIN CRYPT4GH PRIVATE KEY-----", text, StringComparison.Ordinal);
        using var key = Crypt4ghPrivateKey.Load(sk);
        Assert.Equal(Crypt4ghPublicKey.Load(pk), key.PublicKey);
    }

    [Fact]
    public async Task Keygen_refuses_to_overwrite_without_force_and_replaces_with_it()
    {
        var (sk, pk) = (_directory.File("k.sec"), _directory.File("k.pub"));
        Assert.Equal(0, (await RunAsync([], null, "crypt4gh", "keygen", "--sk", sk, "--pk", pk, "--nocrypt")).ExitCode);
        var (oldSecret, oldPublic) = (await File.ReadAllTextAsync(sk), await File.ReadAllTextAsync(pk));

        var refused = await RunAsync([], null, "crypt4gh", "keygen", "--sk", sk, "--pk", _directory.File("other.pub"), "--nocrypt");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--force", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(oldSecret, await File.ReadAllTextAsync(sk));
        Assert.False(File.Exists(_directory.File("other.pub"))); // neither half of the pair was written

        File.SetUnixFileMode(sk, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var forced = await RunAsync([], null, "crypt4gh", "keygen", "--sk", sk, "--pk", pk, "--nocrypt", "--force");

        Assert.Equal(0, forced.ExitCode);
        Assert.NotEqual(oldSecret, await File.ReadAllTextAsync(sk));
        Assert.NotEqual(oldPublic, await File.ReadAllTextAsync(pk));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(sk)); // not the old, wider mode
        Assert.Empty(Directory.GetFiles(_directory.Path, "*.tmp"));
    }

    [Fact]
    public async Task Keygen_without_a_passphrase_source_fails_clearly()
    {
        if (HasTerminal())
        {
            // Obeys SPE_REQUIRE_ALL like every other skip: CI has no terminal, so there the test always runs.
            Requirements.Missing("this process has a controlling terminal, so spe would prompt on it");
        }


        var run = await RunAsync([], null, "crypt4gh", "keygen", "--sk", _directory.File("k.sec"), "--pk", _directory.File("k.pub"));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("C4GH_PASSPHRASE", run.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_directory.File("k.sec")));
    }

    [Theory]
    [Trait("Requirement", "SDR-3")]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65536)]
    [InlineData(200000)]
    public async Task Encrypt_then_decrypt_round_trips_through_stdin_and_stdout(int size)
    {
        var (sk, pk) = KeyPair("reader", Passphrase);
        var plaintext = RandomNumberGenerator.GetBytes(size);

        var encrypted = await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--recipient-pk", pk);
        Assert.Equal(0, encrypted.ExitCode);
        Assert.Equal(size + (28 * SegmentCount(size)), encrypted.Stdout.Length - HeaderLength(encrypted.Stdout, sk, Passphrase));

        var decrypted = await RunAsync(encrypted.Stdout, Passphrase, "crypt4gh", "decrypt", "--sk", sk);

        Assert.Equal(0, decrypted.ExitCode);
        Assert.Equal(plaintext, decrypted.Stdout);
        Assert.Equal(string.Empty, decrypted.Stderr);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Every_recipient_can_decrypt_on_its_own()
    {
        var (sk1, pk1) = KeyPair("one", null);
        var (sk2, pk2) = KeyPair("two", null);
        var (sk3, _) = KeyPair("three", null);
        var plaintext = RandomNumberGenerator.GetBytes(100_000);

        var encrypted = await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--recipient-pk", pk1, "--pk", pk2);
        Assert.Equal(0, encrypted.ExitCode);

        Assert.Equal(plaintext, (await RunAsync(encrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", sk1)).Stdout);
        Assert.Equal(plaintext, (await RunAsync(encrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", sk2)).Stdout);
        var outsider = await RunAsync(encrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", sk3);
        Assert.Equal(1, outsider.ExitCode);
        Assert.Empty(outsider.Stdout);
    }

    [Fact]
    public async Task Encrypt_with_a_range_stores_an_edit_list_that_readers_apply()
    {
        var (sk, pk) = KeyPair("reader", null);
        var plaintext = RandomNumberGenerator.GetBytes(200_000);

        var encrypted = await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--pk", pk, "--range", "70000-150000");
        Assert.Equal(0, encrypted.ExitCode);
        using (var key = Crypt4ghPrivateKey.Load(sk))
        using (var stream = new MemoryStream(encrypted.Stdout))
        {
            Assert.Equal(new long[] { 70000, 80000 }, Crypt4ghHeader.Read(stream, key).EditList);
        }

        var decrypted = await RunAsync(encrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", sk);

        Assert.Equal(0, decrypted.ExitCode);
        Assert.Equal(plaintext[70000..150000], decrypted.Stdout);
    }

    [Theory]
    [InlineData("70000-150000", 70000, 150000)]
    [InlineData("0-1", 0, 1)]
    [InlineData("131072-", 131072, 200000)]
    [InlineData("199999", 199999, 200000)]
    [InlineData("150000-999999", 150000, 200000)]
    [InlineData("300000-", 200000, 200000)]
    public async Task Decrypt_with_a_range_writes_only_those_bytes_from_a_pipe_or_a_file(string range, int start, int end)
    {
        var (sk, pk) = KeyPair("reader", null);
        var plaintext = RandomNumberGenerator.GetBytes(200_000);
        var encrypted = await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--pk", pk);
        var file = _directory.File("data.c4gh");
        await File.WriteAllBytesAsync(file, encrypted.Stdout);

        var piped = await RunAsync(encrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", sk, "--range", range);
        var seeked = await RunWithFileInputAsync(file, null, "crypt4gh", "decrypt", "--sk", sk, "--range", range);

        Assert.Equal(0, piped.ExitCode);
        Assert.Equal(plaintext[start..end], piped.Stdout);
        Assert.Equal(0, seeked.ExitCode);
        Assert.Equal(plaintext[start..end], seeked.Stdout);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Writer_key_is_checked_with_sender_pk()
    {
        var (readerSk, readerPk) = KeyPair("reader", null);
        var (writerSk, writerPk) = KeyPair("writer", Passphrase);
        var (_, strangerPk) = KeyPair("stranger", null);
        var plaintext = RandomNumberGenerator.GetBytes(1000);

        var encrypted = await RunAsync(plaintext, Passphrase, "crypt4gh", "encrypt", "--pk", readerPk, "--sk", writerSk);
        Assert.Equal(0, encrypted.ExitCode);

        var fromWriter = await RunAsync(encrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", readerSk, "--sender-pk", writerPk);
        var fromStranger = await RunAsync(encrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", readerSk, "--sender-pk", strangerPk);

        Assert.Equal(plaintext, fromWriter.Stdout);
        Assert.Equal(1, fromStranger.ExitCode);
        Assert.Empty(fromStranger.Stdout);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Reencrypt_changes_only_the_header_and_only_the_new_key_reads_the_result()
    {
        var (oldSk, oldPk) = KeyPair("old", Passphrase);
        var (newSk, newPk) = KeyPair("new", null);
        var plaintext = RandomNumberGenerator.GetBytes(200_000);
        var encrypted = (await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--pk", oldPk)).Stdout;

        var reencrypted = await RunAsync(encrypted, Passphrase, "crypt4gh", "reencrypt", "--sk", oldSk, "--recipient-pk", newPk);

        Assert.Equal(0, reencrypted.ExitCode);
        var segments = plaintext.Length + (28 * SegmentCount(plaintext.Length));
        Assert.Equal(encrypted[^segments..], reencrypted.Stdout[^segments..]);
        Assert.NotEqual(encrypted[..^segments], reencrypted.Stdout[..^segments]);
        var byNew = await RunAsync(reencrypted.Stdout, null, "crypt4gh", "decrypt", "--sk", newSk);
        Assert.Equal(0, byNew.ExitCode);
        Assert.Equal(plaintext, byNew.Stdout);
        var byOld = await RunAsync(reencrypted.Stdout, Passphrase, "crypt4gh", "decrypt", "--sk", oldSk);
        Assert.Equal(1, byOld.ExitCode);
        Assert.Empty(byOld.Stdout);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Decrypt_with_the_wrong_key_exits_1_with_nothing_on_stdout()
    {
        var (_, pk) = KeyPair("right", null);
        var (wrongSk, _) = KeyPair("wrong", null);
        var encrypted = (await RunAsync(RandomNumberGenerator.GetBytes(70_000), null, "crypt4gh", "encrypt", "--pk", pk)).Stdout;

        var run = await RunAsync(encrypted, null, "crypt4gh", "decrypt", "--sk", wrongSk);

        Assert.Equal(1, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("spe crypt4gh decrypt: ", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Requirement", "SDR-3")]
    [InlineData("garbage")]
    [InlineData("truncated-header")]
    [InlineData("flipped-bit")]
    [InlineData("truncated-segment")]
    [InlineData("empty")]
    public async Task Malformed_input_exits_1_without_unauthenticated_output(string damage)
    {
        var (sk, pk) = KeyPair("reader", null);
        var encrypted = (await RunAsync(RandomNumberGenerator.GetBytes(1000), null, "crypt4gh", "encrypt", "--pk", pk)).Stdout;
        var input = damage switch
        {
            "garbage" => Encoding.ASCII.GetBytes("this is not a crypt4gh file, just text\n"),
            "truncated-header" => encrypted[..40],
            "flipped-bit" => Flip(encrypted, encrypted.Length - 500),
            "truncated-segment" => encrypted[..^1010],
            _ => [],
        };

        var run = await RunAsync(input, null, "crypt4gh", "decrypt", "--sk", sk);

        Assert.Equal(1, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.StartsWith("spe crypt4gh decrypt: ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task A_bad_later_segment_leaves_only_the_earlier_authenticated_segments_on_stdout()
    {
        var (sk, pk) = KeyPair("reader", null);
        var plaintext = RandomNumberGenerator.GetBytes(200_000);
        var encrypted = (await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--pk", pk)).Stdout;
        var segments = plaintext.Length + (28 * SegmentCount(plaintext.Length));
        var secondSegment = encrypted.Length - segments + Crypt4ghFile.CipherSegmentSize;

        var run = await RunAsync(Flip(encrypted, secondSegment + 100), null, "crypt4gh", "decrypt", "--sk", sk);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(plaintext[..Crypt4ghFile.SegmentSize], run.Stdout); // segment 0 only, never a byte of segment 1
        Assert.Contains("segment 1", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Passphrase_comes_from_C4GH_PASSPHRASE_and_a_wrong_one_fails()
    {
        var (sk, pk) = KeyPair("reader", Passphrase);
        var plaintext = RandomNumberGenerator.GetBytes(5000);
        var encrypted = (await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--pk", pk)).Stdout;

        var right = await RunAsync(encrypted, Passphrase, "crypt4gh", "decrypt", "--sk", sk);
        var wrong = await RunAsync(encrypted, "not it", "crypt4gh", "decrypt", "--sk", sk);

        Assert.Equal(plaintext, right.Stdout);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Empty(wrong.Stdout);
        Assert.Contains("passphrase", wrong.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_locked_key_without_a_passphrase_source_fails_clearly()
    {
        if (HasTerminal())
        {
            // Obeys SPE_REQUIRE_ALL like every other skip: CI has no terminal, so there the test always runs.
            Requirements.Missing("this process has a controlling terminal, so spe would prompt on it");
        }

        var (sk, pk) = KeyPair("reader", Passphrase);
        var encrypted = (await RunAsync([1, 2, 3], null, "crypt4gh", "encrypt", "--pk", pk)).Stdout;

        var run = await RunAsync(encrypted, null, "crypt4gh", "decrypt", "--sk", sk);

        Assert.Equal(1, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains("C4GH_PASSPHRASE", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("encrypt")]
    [InlineData("encrypt", "--pk", "PK", "--range", "5-2")]
    [InlineData("encrypt", "--pk", "PK", "--range", "a-b")]
    [InlineData("decrypt")]
    [InlineData("decrypt", "--sk", "SK", "--range", "-5")]
    [InlineData("reencrypt", "--sk", "SK")]
    [InlineData("keygen", "--sk", "x.sec")]
    [InlineData("keygen", "--sk", "x.sec", "--pk", "x.pub", "--kdf", "md5")]
    public async Task Bad_usage_exits_2(params string[] args)
    {
        var (sk, pk) = KeyPair("k", null);
        var resolved = args.Select(a => a switch { "PK" => pk, "SK" => sk, _ => a }).ToArray();

        var run = await RunAsync([], null, ["crypt4gh", .. resolved]);

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.Contains("--help", run.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("keygen", "--sk", "--pk", "--kdf", "--nocrypt", "--comment", "--force", "C4GH_PASSPHRASE")]
    [InlineData("encrypt", "--recipient-pk", "--pk", "--sk", "--range", "C4GH_PASSPHRASE")]
    [InlineData("decrypt", "--sk", "--sender-pk", "--range", "C4GH_PASSPHRASE", "already been written")]
    [InlineData("reencrypt", "--sk", "--recipient-pk", "--keep-other-packets", "C4GH_PASSPHRASE")]
    public async Task Help_documents_every_option(string verb, params string[] expected)
    {
        var run = await RunAsync([], null, "crypt4gh", verb, "--help");

        Assert.Equal(0, run.ExitCode);
        var help = Encoding.UTF8.GetString(run.Stdout);
        Assert.All(expected, e => Assert.Contains(e, help, StringComparison.Ordinal));
    }

    [Theory]
    [Trait("Requirement", "FCR-1")]
    [Trait("Requirement", "SDR-3")]
    [InlineData("text.csv.c4gh", "project.nocrypt.sec", "text.csv")]
    [InlineData("multi.bin.c4gh", "project.nocrypt.sec", "multi.bin")]
    [InlineData("empty.bin.c4gh", "project.nocrypt.sec", "empty.bin")]
    [InlineData("one.bin.c4gh", "project.nocrypt.sec", "one.bin")]
    [InlineData("seg-minus-1.bin.c4gh", "project.nocrypt.sec", "seg-minus-1.bin")]
    [InlineData("seg.bin.c4gh", "project.nocrypt.sec", "seg.bin")]
    [InlineData("seg-plus-1.bin.c4gh", "project.nocrypt.sec", "seg-plus-1.bin")]
    [InlineData("multi.two-recipients.c4gh", "researcher.sec", "multi.bin")]
    [InlineData("multi.two-recipients.c4gh", "project.nocrypt.sec", "multi.bin")]
    [InlineData("multi.range-70000-150000.c4gh", "project.nocrypt.sec", "multi.range-70000-150000.expected")]
    [InlineData("text.anon-sender.c4gh", "project.nocrypt.sec", "text.csv")]
    [InlineData("text.reencrypted-for-researcher.c4gh", "researcher.sec", "text.csv")]
    public async Task Decrypts_files_written_by_the_reference_implementation(string file, string key, string plain)
    {
        var run = await RunAsync(await File.ReadAllBytesAsync(Vector("enc", file)), "pass-public", "crypt4gh", "decrypt", "--sk", Vector("keys", key));

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(ReferenceSha256(plain), Convert.ToHexStringLower(SHA256.HashData(run.Stdout)));
        Assert.Equal(await File.ReadAllBytesAsync(Vector("plain", plain)), run.Stdout);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public async Task Checks_the_reference_writer_and_seeks_in_a_reference_file()
    {
        var file = Vector("enc", "text.csv.c4gh");
        var plain = await File.ReadAllBytesAsync(Vector("plain", "text.csv"));
        var key = Vector("keys", "project.nocrypt.sec");

        var fromHolder = await RunAsync(await File.ReadAllBytesAsync(file), null, "crypt4gh", "decrypt", "--sk", key, "--sender-pk", Vector("keys", "holder.pub"));
        var fromResearcher = await RunAsync(await File.ReadAllBytesAsync(file), null, "crypt4gh", "decrypt", "--sk", key, "--sender-pk", Vector("keys", "researcher.pub"));
        var slice = await RunWithFileInputAsync(Vector("enc", "multi.bin.c4gh"), null, "crypt4gh", "decrypt", "--sk", key, "--range", "70000-150000");

        Assert.Equal(plain, fromHolder.Stdout);
        Assert.Equal(1, fromResearcher.ExitCode);
        Assert.Empty(fromResearcher.Stdout);
        Assert.Equal((await File.ReadAllBytesAsync(Vector("plain", "multi.bin")))[70000..150000], slice.Stdout);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public async Task This_cli_encrypts_for_a_reference_key_file_and_decrypts_with_the_reference_secret_key_file()
    {
        // Note: both ends are this project's CLI; only the key files come from the reference tool. Files the reference
        // tool wrote are decrypted in Decrypts_files_written_by_the_reference_implementation; the reference tool itself
        // is not installed here, so nothing it reads is checked by this test.
        var plaintext = RandomNumberGenerator.GetBytes(70_000);

        var encrypted = await RunAsync(plaintext, null, "crypt4gh", "encrypt", "--pk", Vector("keys", "researcher.pub"));
        var decrypted = await RunAsync(encrypted.Stdout, "pass-public", "crypt4gh", "decrypt", "--sk", Vector("keys", "researcher.sec"));

        Assert.Equal(plaintext, decrypted.Stdout);
    }

    /// <summary>Makes a key pair with the library (faster than keygen; keygen has its own tests).</summary>
    private (string Sk, string Pk) KeyPair(string name, string? passphrase)
    {
        var (sk, pk) = (_directory.File(name + ".sec"), _directory.File(name + ".pub"));
        if (!File.Exists(sk))
        {
            using var key = Crypt4ghPrivateKey.Generate();
            key.Save(sk, passphrase);
            key.PublicKey.Save(pk);
        }

        return (sk, pk);
    }

    private static long HeaderLength(byte[] file, string sk, string passphrase)
    {
        using var key = Crypt4ghPrivateKey.Load(sk, () => passphrase);
        using var stream = new MemoryStream(file);
        return Crypt4ghHeader.Read(stream, key).EncodedLength;
    }

    private static int SegmentCount(int size) => (size + Crypt4ghFile.SegmentSize - 1) / Crypt4ghFile.SegmentSize;

    private static byte[] Flip(byte[] data, int index)
    {
        var copy = (byte[])data.Clone();
        copy[index] ^= 0x01;
        return copy;
    }

    private static byte[] KeyBody(string pem)
    {
        var lines = pem.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return Convert.FromBase64String(string.Concat(lines.Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
    }

    private static bool HasTerminal()
    {
        try
        {
            using var tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.Read);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The SHA-256 the vectors' plain.sha256 gives for a plaintext (written alongside the reference tool's files).</summary>
    private static string ReferenceSha256(string plain) =>
        File.ReadAllLines(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Vector("plain", plain)))!, "plain.sha256"))
            .Select(line => line.Split("  ", 2))
            .Single(parts => parts[1] == "plain/" + plain)[0];

    /// <summary>The GA4GH reference vectors kept with the library's tests (see their SOURCE.md), found from the test assembly upwards.</summary>
    private static string Vector(string kind, string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var vectors = Path.Combine(directory.FullName, "tests", "OpenSpe.Crypt4gh.Tests", "Vectors");
            if (Directory.Exists(vectors))
            {
                return Path.Combine(vectors, kind, name);
            }
        }

        throw new DirectoryNotFoundException("tests/OpenSpe.Crypt4gh.Tests/Vectors not found above " + AppContext.BaseDirectory);
    }
}
