using System.Text;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>Key files, key derivation functions and their known answers.</summary>
public sealed class KeyTests
{
    // OpenBSD regress/lib/libutil/bcrypt_pbkdf vectors (also used by OpenSSH, python-bcrypt and Go's x/crypto).
    [Theory]
    [InlineData("password", "salt", 4, "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9")]
    [InlineData("password", "\0", 4, "c12b566235eee04c212598970a579a67")]
    [InlineData("\0", "salt", 4, "6051be18c2f4f82cbf0efee5471b4bb9")]
    [InlineData("password\0", "salt\0", 4, "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050")]
    [InlineData("password", "salt", 8, "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab7aa478010246e74bba51723fefa9f9474d6508845e8d")]
    [InlineData("password", "salt", 42, "833cf0dcf56db65608e8f0dc0ce882bd")]
    [Trait("Requirement", "SDR-4")]
    public void Bcrypt_pbkdf_matches_known_answers(string password, string salt, uint rounds, string expectedHex)
    {
        var output = new byte[expectedHex.Length / 2];
        BcryptPbkdf.Derive(Encoding.ASCII.GetBytes(password), Encoding.ASCII.GetBytes(salt), rounds, output);
        Assert.Equal(expectedHex, Convert.ToHexStringLower(output));
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public void Blowfish_initial_state_is_the_digits_of_pi()
    {
        var words = BcryptPbkdf.PiDigits.Words;
        Assert.Equal(1042, words.Length);
        Assert.Equal(0x243F6A88u, words[0]); // P[0]
        Assert.Equal(0x8979FB1Bu, words[17]); // P[17]
        Assert.Equal(0xD1310BA6u, words[18]); // S0[0]
        Assert.Equal(0x3AC372E6u, words[^1]); // S3[255]
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public void Independent_scrypt_matches_rfc_7914()
    {
        var output = IndependentCrypt4gh.Scrypt([], [], 16, 1, 1, 64);
        Assert.Equal("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906", Convert.ToHexStringLower(output));
    }

    [Theory]
    [InlineData(Crypt4ghKdf.Scrypt, null)]
    [InlineData(Crypt4ghKdf.Pbkdf2HmacSha256, 1000u)]
    [InlineData(Crypt4ghKdf.Bcrypt, 4u)]
    [Trait("Requirement", "SDR-4")]
    [Trait("Requirement", "FCR-1")]
    public void Encrypted_key_file_round_trips(Crypt4ghKdf kdf, uint? rounds)
    {
        using var key = Crypt4ghPrivateKey.Generate("alice@example.org");
        var pem = key.ToPem("correct horse", kdf, rounds);
        Assert.StartsWith("-----BEGIN CRYPT4GH ENCRYPTED PRIVATE KEY-----\n", pem, StringComparison.Ordinal);
        Assert.EndsWith("-----END CRYPT4GH ENCRYPTED PRIVATE KEY-----\n", pem, StringComparison.Ordinal);

        using var loaded = Crypt4ghPrivateKey.Parse(pem, () => "correct horse");
        Assert.Equal(key.PublicKey, loaded.PublicKey);
        Assert.Equal("alice@example.org", loaded.Comment);
        Assert.Equal(Crypt4ghErrorKind.WrongPassphrase, Assert.Throws<Crypt4ghException>(() => Crypt4ghPrivateKey.Parse(pem, () => "wrong")).Kind);
        Assert.Equal(Crypt4ghErrorKind.PassphraseRequired, Assert.Throws<Crypt4ghException>(() => Crypt4ghPrivateKey.Parse(pem)).Kind);

        // The kdf name and the layout are the reference ones.
        var blob = key.ToKeyFileBytes("correct horse", kdf, rounds);
        var name = kdf switch { Crypt4ghKdf.Scrypt => "scrypt", Crypt4ghKdf.Bcrypt => "bcrypt", _ => "pbkdf2_hmac_sha256" };
        Assert.Equal(Encoding.ASCII.GetBytes("c4gh-v1\0" + (char)name.Length + name), blob[..(9 + name.Length)]);

        if (kdf != Crypt4ghKdf.Bcrypt)
        {
            // The independent reader (its own scrypt, the BCL's PBKDF2) opens it too.
            Assert.Equal(key.ExportSecret(), IndependentCrypt4gh.LoadSecret(pem, "correct horse"));
        }
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Unencrypted_key_file_round_trips_and_matches_the_reference_layout()
    {
        using var key = Crypt4ghPrivateKey.Generate();
        var pem = key.ToPem();
        Assert.StartsWith("-----BEGIN CRYPT4GH PRIVATE KEY-----\n", pem, StringComparison.Ordinal);
        using var loaded = Crypt4ghPrivateKey.Parse(pem);
        Assert.Equal(key.PublicKey, loaded.PublicKey);
        Assert.Null(loaded.Comment);
        Assert.Equal(key.ExportSecret(), IndependentCrypt4gh.LoadSecret(pem, null));

        // Byte-for-byte the layout of the reference's project.nocrypt.sec, given the same secret and comment.
        var reference = File.ReadAllText(TestData.KeyPath("project.nocrypt.sec"));
        using var project = Crypt4ghPrivateKey.FromBytes(TestData.Project.ExportSecret(), "project-public");
        Assert.Equal(reference.Trim(), project.ToPem().Trim());
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Public_key_file_round_trips_and_matches_the_reference_text()
    {
        var text = File.ReadAllText(TestData.KeyPath("researcher.pub"));
        var key = Crypt4ghPublicKey.Parse(text);
        Assert.Equal(text, key.ToPem());
        Assert.Equal(key, TestData.Researcher.PublicKey);
        Assert.Equal(64, key.Fingerprint.Length);
        Assert.Equal(TestData.Sha256Hex(key.Bytes.ToArray()), key.Fingerprint);
    }

    [Fact]
    [Trait("Requirement", "SDR-4")]
    public void Saved_private_key_is_owner_only_and_loads_back()
    {
        var directory = Directory.CreateTempSubdirectory("c4gh-key-");
        try
        {
            using var key = Crypt4ghPrivateKey.Generate();
            var path = Path.Combine(directory.FullName, "key.sec");
            key.Save(path, "pw", Crypt4ghKdf.Pbkdf2HmacSha256, 1000);
            key.PublicKey.Save(path + ".pub");
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            using var loaded = Crypt4ghPrivateKey.Load(path, () => "pw");
            Assert.Equal(Crypt4ghPublicKey.Load(path + ".pub"), loaded.PublicKey);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("just text")]
    [InlineData("-----BEGIN CRYPT4GH PRIVATE KEY-----\n!!!!\n-----END CRYPT4GH PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN CRYPT4GH PRIVATE KEY-----\nYzRnaC12MQ==\n-----END CRYPT4GH PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN CRYPT4GH PRIVATE KEY-----\nYzRnaC12MQAEbm9uZQAEbm9uZQ==\n-----END CRYPT4GH PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN OPENSSH PRIVATE KEY-----\nYzRnaC12MQ==\n-----END OPENSSH PRIVATE KEY-----\n")]
    [InlineData("-----BEGIN CRYPT4GH PRIVATE KEY-----\nYzRnaC12MQ==\n-----END CRYPT4GH PUBLIC KEY-----\n")]
    public void Malformed_private_keys_are_rejected(string text)
    {
        var error = Assert.Throws<Crypt4ghException>(() => Crypt4ghPrivateKey.Parse(text, () => "x"));
        Assert.Equal(Crypt4ghErrorKind.BadKeyFile, error.Kind);
    }

    [Fact]
    public void Unknown_kdf_is_an_unsupported_key_format()
    {
        var blob = "c4gh-v1"u8.ToArray().Concat(new byte[] { 0, 6 }).Concat("argon2"u8.ToArray()).ToArray();
        var pem = $"-----BEGIN CRYPT4GH PRIVATE KEY-----\n{Convert.ToBase64String(blob)}\n-----END CRYPT4GH PRIVATE KEY-----\n";
        Assert.Equal(Crypt4ghErrorKind.UnsupportedKeyFormat, Assert.Throws<Crypt4ghException>(() => Crypt4ghPrivateKey.Parse(pem)).Kind);
    }

    [Fact]
    public void Malformed_public_keys_are_rejected()
    {
        Assert.Equal(Crypt4ghErrorKind.BadKeyFile, Assert.Throws<Crypt4ghException>(() => Crypt4ghPublicKey.Parse("-----BEGIN CRYPT4GH PUBLIC KEY-----\nAAAA\n-----END CRYPT4GH PUBLIC KEY-----\n")).Kind);
        Assert.Equal(Crypt4ghErrorKind.BadKeyFile, Assert.Throws<Crypt4ghException>(() => Crypt4ghPublicKey.Parse(File.ReadAllText(TestData.KeyPath("project.nocrypt.sec")))).Kind);
    }
}
