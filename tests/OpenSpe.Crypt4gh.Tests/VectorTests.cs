using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>Files and keys written by the GA4GH reference implementation (crypt4gh 1.8.6) read by this library.</summary>
public sealed class VectorTests
{
    public static TheoryData<string> HolderToProjectFiles() =>
        ["empty.bin", "one.bin", "seg-minus-1.bin", "seg.bin", "seg-plus-1.bin", "multi.bin", "text.csv"];

    [Theory]
    [MemberData(nameof(HolderToProjectFiles))]
    [Trait("Requirement", "FCR-1")]
    [Trait("Requirement", "SDR-3")]
    public void Reference_file_decrypts_to_its_plaintext(string name)
    {
        var expected = TestData.PlainSha256()[name];
        using var input = File.OpenRead(TestData.EncPath(name + ".c4gh"));
        using var output = new MemoryStream();
        var header = Crypt4ghFile.Decrypt(input, output, TestData.Project);

        Assert.Equal(expected, TestData.Sha256Hex(output.ToArray()));
        Assert.Single(header.DataKeys);
        Assert.Null(header.EditList);
        Assert.Equal(TestData.Holder.PublicKey, Assert.Single(header.WriterPublicKeys));
    }

    [Theory]
    [MemberData(nameof(HolderToProjectFiles))]
    [Trait("Requirement", "FCR-1")]
    public async Task Reference_file_decrypts_through_the_async_and_forward_only_paths(string name)
    {
        var expected = await File.ReadAllBytesAsync(TestData.PlainPath(name), TestContext.Current.CancellationToken);
        await using var file = File.OpenRead(TestData.EncPath(name + ".c4gh"));
        await using var stream = await Crypt4ghDecryptingStream.OpenAsync(new ForwardOnlyStream(file), TestData.Project, cancellationToken: TestContext.Current.CancellationToken);
        using var output = new MemoryStream();
        var buffer = new byte[10_007];
        int n;
        while ((n = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0)
        {
            output.Write(buffer, 0, n);
        }

        Assert.Equal(expected, output.ToArray());
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Every_reference_key_loads_and_matches_its_public_key()
    {
        Assert.Equal(TestData.PublicKey("researcher.pub"), TestData.Researcher.PublicKey);
        Assert.Equal(TestData.PublicKey("holder.pub"), TestData.Holder.PublicKey);
        Assert.Equal(TestData.PublicKey("project.pub"), TestData.Project.PublicKey);
        Assert.Equal("researcher-public", TestData.Researcher.Comment);
        Assert.Equal("holder-public", TestData.Holder.Comment);
        Assert.Equal("project-public", TestData.Project.Comment);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Two_recipient_file_opens_with_either_key()
    {
        var expected = TestData.PlainSha256()["multi.bin"];
        foreach (var key in new[] { TestData.Researcher, TestData.Project })
        {
            using var input = File.OpenRead(TestData.EncPath("multi.two-recipients.c4gh"));
            using var output = new MemoryStream();
            Crypt4ghFile.Decrypt(input, output, key);
            Assert.Equal(expected, TestData.Sha256Hex(output.ToArray()));
        }

        using var other = File.OpenRead(TestData.EncPath("multi.two-recipients.c4gh"));
        var error = Assert.Throws<Crypt4ghException>(() => Crypt4ghFile.Decrypt(other, Stream.Null, TestData.Holder));
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, error.Kind);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Range_file_yields_exactly_the_expected_bytes()
    {
        var expected = File.ReadAllBytes(TestData.PlainPath("multi.range-70000-150000.expected"));
        using var input = File.OpenRead(TestData.EncPath("multi.range-70000-150000.c4gh"));
        using var stream = new Crypt4ghDecryptingStream(input, TestData.Project);
        Assert.Equal(expected.Length, stream.Length);
        using var output = new MemoryStream();
        stream.CopyTo(output);
        Assert.Equal(expected, output.ToArray());
        Assert.Equal(TestData.PlainSha256()["multi.range-70000-150000.expected"], TestData.Sha256Hex(output.ToArray()));
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Reencrypted_file_opens_for_the_researcher_only()
    {
        var expected = TestData.PlainSha256()["text.csv"];
        using var input = File.OpenRead(TestData.EncPath("text.reencrypted-for-researcher.c4gh"));
        using var output = new MemoryStream();
        Crypt4ghFile.Decrypt(input, output, TestData.Researcher);
        Assert.Equal(expected, TestData.Sha256Hex(output.ToArray()));

        using var again = File.OpenRead(TestData.EncPath("text.reencrypted-for-researcher.c4gh"));
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, Assert.Throws<Crypt4ghException>(() => Crypt4ghFile.Decrypt(again, Stream.Null, TestData.Project)).Kind);

        // Same data segments as the original: only the header changed.
        var original = File.ReadAllBytes(TestData.EncPath("text.csv.c4gh"));
        var reencrypted = File.ReadAllBytes(TestData.EncPath("text.reencrypted-for-researcher.c4gh"));
        Assert.Equal(original.AsSpan(124).ToArray(), reencrypted.AsSpan(124).ToArray());
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Anonymous_sender_file_decrypts_and_its_writer_key_is_not_the_holder()
    {
        using var input = File.OpenRead(TestData.EncPath("text.anon-sender.c4gh"));
        using var output = new MemoryStream();
        var header = Crypt4ghFile.Decrypt(input, output, TestData.Project);
        Assert.Equal(TestData.PlainSha256()["text.csv"], TestData.Sha256Hex(output.ToArray()));
        Assert.NotEqual(TestData.Holder.PublicKey, Assert.Single(header.WriterPublicKeys));

        using var checkedInput = File.OpenRead(TestData.EncPath("text.anon-sender.c4gh"));
        var error = Assert.Throws<Crypt4ghException>(() => Crypt4ghFile.Decrypt(checkedInput, Stream.Null, TestData.Project, expectedWriter: TestData.Holder.PublicKey));
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, error.Kind);
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Our_header_reencryption_of_a_reference_file_keeps_the_segments_and_opens_for_the_new_reader()
    {
        using var input = File.OpenRead(TestData.EncPath("multi.bin.c4gh"));
        using var output = new MemoryStream();
        Crypt4ghFile.Reencrypt(input, output, TestData.Project, [TestData.Researcher.PublicKey]);

        var original = File.ReadAllBytes(TestData.EncPath("multi.bin.c4gh"));
        var result = output.ToArray();
        Assert.Equal(original.AsSpan(124).ToArray(), result.AsSpan(result.Length - (original.Length - 124)).ToArray());
        var plain = IndependentCrypt4gh.Decrypt(result, TestData.Researcher.ExportSecret());
        Assert.Equal(TestData.PlainSha256()["multi.bin"], TestData.Sha256Hex(plain));
    }

    [Fact]
    [Trait("Requirement", "FCR-1")]
    public void Independent_decoder_reads_the_reference_vectors_too()
    {
        var secret = IndependentCrypt4gh.LoadSecret(File.ReadAllText(TestData.KeyPath("researcher.sec")), TestData.Passphrase);
        Assert.Equal(TestData.PublicKey("researcher.pub").Bytes.ToArray(), IndependentCrypt4gh.PublicFromSecret(secret));
        var plain = IndependentCrypt4gh.Decrypt(File.ReadAllBytes(TestData.EncPath("multi.two-recipients.c4gh")), secret);
        Assert.Equal(TestData.PlainSha256()["multi.bin"], TestData.Sha256Hex(plain));
    }
}
