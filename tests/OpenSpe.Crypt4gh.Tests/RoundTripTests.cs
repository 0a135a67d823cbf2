using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>What this library writes, read back by this library and by the independent spec-only decoder.</summary>
public sealed class RoundTripTests
{
    public static TheoryData<int> Sizes() => [0, 1, 65535, 65536, 65537, (3 * 65536) + 12345, 4 * 65536];

    [Theory]
    [MemberData(nameof(Sizes))]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "FCR-1")]
    public void Round_trip_at_size(int size)
    {
        var plain = TestData.RandomBytes(size, size);
        using var reader = Crypt4ghPrivateKey.Generate();
        var file = Encrypt(plain, [reader.PublicKey]);

        Assert.Equal(plain, Decrypt(file, reader));
        Assert.Equal(plain, IndependentCrypt4gh.Decrypt(file, reader.ExportSecret()));

        // Layout: header, then full segments of 65,564 bytes and a shorter last one; no empty trailing segment.
        var header = file.Length - DataLength(size);
        Assert.Equal(16 + 108, header);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    [Trait("Requirement", "SDR-3")]
    public async Task Round_trip_at_size_async_with_odd_writes(int size)
    {
        var plain = TestData.RandomBytes(size, size + 1);
        using var reader = Crypt4ghPrivateKey.Generate();
        using var output = new MemoryStream();
        await using (var encrypting = new Crypt4ghEncryptingStream(output, [reader.PublicKey], new Crypt4ghEncryptionOptions { LeaveOpen = true }))
        {
            var offset = 0;
            var step = 1;
            while (offset < plain.Length)
            {
                var n = Math.Min(step, plain.Length - offset);
                await encrypting.WriteAsync(plain.AsMemory(offset, n), TestContext.Current.CancellationToken);
                offset += n;
                step = (step * 7) + 3;
            }
        }

        output.Position = 0;
        using var decrypted = new MemoryStream();
        await Crypt4ghFile.DecryptAsync(output, decrypted, reader, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(plain, decrypted.ToArray());
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "FCR-1")]
    public void Several_recipients_each_open_the_file_and_others_cannot()
    {
        var plain = TestData.RandomBytes(150_000, 7);
        using var alice = Crypt4ghPrivateKey.Generate();
        using var bob = Crypt4ghPrivateKey.Generate();
        using var carol = Crypt4ghPrivateKey.Generate();
        using var mallory = Crypt4ghPrivateKey.Generate();
        var file = Encrypt(plain, [alice.PublicKey, bob.PublicKey, carol.PublicKey], new Crypt4ghEncryptionOptions { WriterKey = TestData.Holder });

        foreach (var key in new[] { alice, bob, carol })
        {
            Assert.Equal(plain, Decrypt(file, key));
            Assert.Equal(plain, IndependentCrypt4gh.Decrypt(file, key.ExportSecret()));
        }

        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, Assert.Throws<Crypt4ghException>(() => Decrypt(file, mallory)).Kind);

        using var input = new MemoryStream(file);
        var header = Crypt4ghHeader.Read(input, bob, expectedWriter: TestData.Holder.PublicKey);
        Assert.Equal(TestData.Holder.PublicKey, Assert.Single(header.WriterPublicKeys));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "FCR-1")]
    public void Several_data_keys_are_used_in_turn_and_all_decrypt(int keys)
    {
        var plain = TestData.RandomBytes((5 * 65536) + 99, 11);
        using var reader = Crypt4ghPrivateKey.Generate();
        var file = Encrypt(plain, [reader.PublicKey], new Crypt4ghEncryptionOptions { DataKeyCount = keys });

        using var input = new MemoryStream(file);
        using var stream = new Crypt4ghDecryptingStream(input, reader);
        Assert.Equal(keys, stream.Header.DataKeys.Count);
        using var output = new MemoryStream();
        stream.CopyTo(output);
        Assert.Equal(plain, output.ToArray());
        Assert.Equal(plain, IndependentCrypt4gh.Decrypt(file, reader.ExportSecret()));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void A_data_key_selector_picks_the_key_of_each_segment()
    {
        var plain = TestData.RandomBytes(4 * 65536, 12);
        using var reader = Crypt4ghPrivateKey.Generate();
        var header = Crypt4ghHeader.Create(2);
        using var output = new MemoryStream();
        using (var encrypting = new Crypt4ghEncryptingStream(output, header, [reader.PublicKey], new Crypt4ghEncryptionOptions { DataKeySelector = s => s < 2 ? 0 : 1, LeaveOpen = true }))
        {
            encrypting.Write(plain);
        }

        // Only with both keys does the whole file authenticate.
        var file = output.ToArray();
        Assert.Equal(plain, Decrypt(file, reader));
        var onlyFirst = Crypt4ghHeader.Create([header.DataKeys[0]]).Encrypt([reader.PublicKey]);
        var data = file.AsSpan(file.Length - (4 * Crypt4ghFile.CipherSegmentSize)).ToArray();
        using var partial = new MemoryStream([.. onlyFirst, .. data]);
        using var stream = new Crypt4ghDecryptingStream(partial, reader);
        var buffer = new byte[2 * 65536];
        stream.ReadExactly(buffer);
        Assert.Equal(plain.AsSpan(0, 2 * 65536).ToArray(), buffer);
        Assert.Equal(Crypt4ghErrorKind.AuthenticationFailed, Assert.Throws<Crypt4ghException>(() => stream.ReadByte()).Kind);
    }

    public static TheoryData<int, long[]> EditLists() => new()
    {
        { 300_001, [70_000, 80_000] },
        { 300_001, [0, 7_853, 71_721, 30_000, 5_000, 38] },
        { 300_001, [100] },
        { 300_001, [65_536, 65_536, 65_536] },
        { 300_001, [1, 2, 3, 4, 5] },
        { 300_001, [0, 0, 10, 0, 200_000, 500_000] },
        { 300_001, [] },
        { 100, [50, 1_000, 10, 10] },
        { 0, [10, 20] },
        { 65_536, [65_535, 1] },
    };

    [Theory]
    [MemberData(nameof(EditLists))]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "FCR-1")]
    public void Edit_list_is_written_and_applied_as_the_spec_says(int size, long[] editList)
    {
        var plain = TestData.RandomBytes(size, editList.Length);
        var expected = IndependentCrypt4gh.ApplyEditList(editList.Select(l => (ulong)l), plain);
        using var reader = Crypt4ghPrivateKey.Generate();
        var file = Encrypt(plain, [reader.PublicKey], new Crypt4ghEncryptionOptions { EditList = editList });

        Assert.Equal(expected, IndependentCrypt4gh.Decrypt(file, reader.ExportSecret()));
        Assert.Equal(expected, Decrypt(file, reader));

        // Seekable: the length is the edited length; forward-only: the same bytes.
        using var seekable = new Crypt4ghDecryptingStream(new MemoryStream(file), reader);
        Assert.Equal(editList, seekable.Header.EditList);
        Assert.Equal(expected.Length, seekable.Length);
        using var forward = new Crypt4ghDecryptingStream(new ForwardOnlyStream(new MemoryStream(file)), reader);
        Assert.Equal(expected, ReadAllInChunks(forward, 4_099));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    [Trait("Requirement", "FCR-1")]
    public void Header_reencryption_keeps_the_data_segments_and_the_edit_list()
    {
        var plain = TestData.RandomBytes(200_000, 5);
        using var owner = Crypt4ghPrivateKey.Generate();
        using var newReader = Crypt4ghPrivateKey.Generate();
        using var other = Crypt4ghPrivateKey.Generate();
        long[] editList = [10, 100_000];
        var file = Encrypt(plain, [owner.PublicKey, other.PublicKey], new Crypt4ghEncryptionOptions { EditList = editList, DataKeyCount = 2 });

        using var input = new MemoryStream(file);
        using var output = new MemoryStream();
        Crypt4ghFile.Reencrypt(input, output, owner, [newReader.PublicKey]);
        var reencrypted = output.ToArray();

        var dataLength = DataLength(plain.Length);
        Assert.Equal(file.AsSpan(file.Length - dataLength).ToArray(), reencrypted.AsSpan(reencrypted.Length - dataLength).ToArray());
        var expected = plain.AsSpan(10, 100_000).ToArray();
        Assert.Equal(expected, Decrypt(reencrypted, newReader));
        Assert.Equal(expected, IndependentCrypt4gh.Decrypt(reencrypted, newReader.ExportSecret()));
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, Assert.Throws<Crypt4ghException>(() => Decrypt(reencrypted, owner)).Kind);
        Assert.Equal(Crypt4ghErrorKind.NoMatchingKey, Assert.Throws<Crypt4ghException>(() => Decrypt(reencrypted, other)).Kind);

        // Keeping the packets of other readers leaves their access in place.
        input.Position = 0;
        using var kept = new MemoryStream();
        Crypt4ghFile.Reencrypt(input, kept, owner, [newReader.PublicKey], keepOtherPackets: true);
        Assert.Equal(expected, Decrypt(kept.ToArray(), other));
        Assert.Equal(expected, Decrypt(kept.ToArray(), newReader));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Header_reencryption_async_matches()
    {
        var plain = TestData.RandomBytes(70_000, 6);
        using var owner = Crypt4ghPrivateKey.Generate();
        using var newReader = Crypt4ghPrivateKey.Generate();
        var file = Encrypt(plain, [owner.PublicKey]);
        using var input = new MemoryStream(file);
        using var output = new MemoryStream();
        await Crypt4ghFile.ReencryptAsync(new ForwardOnlyStream(input), output, owner, [newReader.PublicKey], writerKey: TestData.Holder, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(plain, Decrypt(output.ToArray(), newReader));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Written_file_never_contains_the_plaintext_or_the_data_key()
    {
        var plain = "Patient,Genotype\nP001,rs123:AA\n"u8.ToArray();
        plain = [.. Enumerable.Repeat(plain, 5000).SelectMany(x => x)];
        using var reader = Crypt4ghPrivateKey.Generate();
        using var output = new MemoryStream();
        using (var encrypting = new Crypt4ghEncryptingStream(output, [reader.PublicKey], new Crypt4ghEncryptionOptions { LeaveOpen = true }))
        {
            encrypting.Write(plain);
            Assert.Equal(plain.Length, encrypting.Length);
        }

        var file = output.ToArray();
        Assert.Equal(-1, file.AsSpan().IndexOf("P001,rs123"u8));
        using var input = new MemoryStream(file);
        var key = Crypt4ghHeader.Read(input, reader).DataKeys[0].ToArray();
        Assert.Equal(-1, file.AsSpan().IndexOf(key));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Async_facade_round_trips_with_an_edit_list()
    {
        var plain = TestData.RandomBytes(140_000, 3);
        using var reader = Crypt4ghPrivateKey.Generate();
        using var encrypted = new MemoryStream();
        await Crypt4ghFile.EncryptAsync(new MemoryStream(plain), encrypted, [reader.PublicKey], new Crypt4ghEncryptionOptions { EditList = [5, 131_000] }, TestContext.Current.CancellationToken);
        encrypted.Position = 0;
        await using var stream = await Crypt4ghDecryptingStream.OpenAsync(encrypted, reader, cancellationToken: TestContext.Current.CancellationToken);
        var buffer = new byte[200_000];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, TestContext.Current.CancellationToken);
        Assert.Equal(plain.AsSpan(5, 131_000).ToArray(), buffer.AsSpan(0, read).ToArray());
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public async Task Async_reads_of_whole_segments_match_the_plaintext()
    {
        var plain = TestData.RandomBytes((4 * 65536) + 17, 4);
        using var reader = Crypt4ghPrivateKey.Generate();
        var file = Encrypt(plain, [reader.PublicKey]);
        await using var stream = await Crypt4ghDecryptingStream.OpenAsync(new MemoryStream(file), reader, cancellationToken: TestContext.Current.CancellationToken);
        var buffer = new byte[plain.Length + 100];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, TestContext.Current.CancellationToken);
        Assert.Equal(plain, buffer.AsSpan(0, read).ToArray());
    }

    internal static byte[] Encrypt(byte[] plain, Crypt4ghPublicKey[] recipients, Crypt4ghEncryptionOptions? options = null)
    {
        using var output = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(plain), output, recipients, options);
        return output.ToArray();
    }

    internal static byte[] Decrypt(byte[] file, Crypt4ghPrivateKey reader)
    {
        using var output = new MemoryStream();
        Crypt4ghFile.Decrypt(new MemoryStream(file), output, reader);
        return output.ToArray();
    }

    internal static byte[] ReadAllInChunks(Stream stream, int chunk)
    {
        using var output = new MemoryStream();
        var buffer = new byte[chunk];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            output.Write(buffer, 0, n);
        }

        return output.ToArray();
    }

    internal static int DataLength(int plainLength)
    {
        var full = plainLength / 65536;
        var rest = plainLength % 65536;
        return (full * Crypt4ghFile.CipherSegmentSize) + (rest > 0 ? rest + 28 : 0);
    }
}
