using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>Seeking in the plaintext of a seekable file decrypts only the segments a read touches.</summary>
public sealed class RandomAccessTests
{
    private const int Size = (6 * 65536) + 4321;
    private static readonly Lazy<(byte[] Plain, byte[] File)> Sample = new(() =>
    {
        var plain = TestData.RandomBytes(Size, 2024);
        return (plain, RoundTripTests.Encrypt(plain, [TestData.Project.PublicKey]));
    });

    [Theory]
    [InlineData(0, 10)]
    [InlineData(65535, 2)]
    [InlineData(65536, 65536)]
    [InlineData(100_000, 200_000)]
    [InlineData(5 * 65536, 65536 + 4321)]
    [InlineData(Size - 1, 1)]
    [InlineData(Size - 10, 100)] // reads stop at the end
    [InlineData(Size + 10, 5)] // past the end: nothing
    public void Seek_and_read_returns_the_plaintext_range(long offset, int count)
    {
        var (plain, file) = Sample.Value;
        using var stream = new Crypt4ghDecryptingStream(new MemoryStream(file), TestData.Project);
        Assert.True(stream.CanSeek);
        Assert.Equal(Size, stream.Length);
        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[count];
        var read = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        var expected = plain.AsSpan((int)Math.Min(offset, Size), (int)Math.Clamp(Size - offset, 0, count)).ToArray();
        Assert.Equal(expected, buffer.AsSpan(0, read).ToArray());
    }

    [Fact]
    public void Only_the_segments_of_the_range_are_read()
    {
        var (plain, file) = Sample.Value;
        var recording = new ReadRecordingStream(new MemoryStream(file));
        using var stream = new Crypt4ghDecryptingStream(recording, TestData.Project);
        var headerReads = recording.Reads.Count;
        stream.Position = (3 * 65536) + 100;
        var buffer = new byte[1000];
        stream.ReadExactly(buffer);
        Assert.Equal(plain.AsSpan((3 * 65536) + 100, 1000).ToArray(), buffer);

        var dataReads = recording.Reads.Skip(headerReads).ToList();
        var dataStart = 16 + 108;
        Assert.All(dataReads, r => Assert.InRange(r.Offset, dataStart + (3L * Crypt4ghFile.CipherSegmentSize), dataStart + (4L * Crypt4ghFile.CipherSegmentSize) - 1));
        Assert.Equal(Crypt4ghFile.CipherSegmentSize, dataReads.Sum(r => r.Count));
    }

    [Fact]
    [Trait("Requirement", "SDR-3")]
    public void Damage_outside_the_range_does_not_matter()
    {
        var (plain, original) = Sample.Value;
        var file = (byte[])original.Clone();
        file[16 + 108 + 100] ^= 0xFF; // segment 0
        file[file.Length - 5] ^= 0xFF; // last segment
        using var stream = new Crypt4ghDecryptingStream(new MemoryStream(file), TestData.Project);
        stream.Seek(2 * 65536, SeekOrigin.Begin);
        var buffer = new byte[2 * 65536];
        stream.ReadExactly(buffer);
        Assert.Equal(plain.AsSpan(2 * 65536, 2 * 65536).ToArray(), buffer);
        stream.Seek(-1, SeekOrigin.End);
        Assert.Equal(Crypt4ghErrorKind.AuthenticationFailed, Assert.Throws<Crypt4ghException>(() => stream.ReadByte()).Kind);
    }

    [Fact]
    public void Seek_with_an_edit_list_addresses_the_edited_plaintext()
    {
        var (plain, _) = Sample.Value;
        long[] editList = [1000, 70_000, 100_000, 5, 50_000, 123_456];
        var expected = IndependentCrypt4gh.ApplyEditList(editList.Select(l => (ulong)l), plain);
        var file = RoundTripTests.Encrypt(plain, [TestData.Project.PublicKey], new Crypt4ghEncryptionOptions { EditList = editList });
        using var stream = new Crypt4ghDecryptingStream(new MemoryStream(file), TestData.Project);
        Assert.Equal(expected.Length, stream.Length);
        foreach (var (offset, count) in new[] { (0, 10), (69_995, 20), (70_004, 3), (70_005, 60_000), (expected.Length - 7, 50) })
        {
            stream.Position = offset;
            var buffer = new byte[count];
            var read = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
            Assert.Equal(expected.AsSpan(offset, Math.Min(count, expected.Length - offset)).ToArray(), buffer.AsSpan(0, read).ToArray());
        }

        stream.Seek(-3, SeekOrigin.End);
        Assert.Equal(expected[^3..], RoundTripTests.ReadAllInChunks(stream, 100));
    }

    [Fact]
    public void Forward_only_input_cannot_seek()
    {
        var (_, file) = Sample.Value;
        using var stream = new Crypt4ghDecryptingStream(new ForwardOnlyStream(new MemoryStream(file)), TestData.Project);
        Assert.False(stream.CanSeek);
        Assert.Throws<NotSupportedException>(() => stream.Length);
        Assert.Throws<NotSupportedException>(() => stream.Seek(10, SeekOrigin.Begin));
    }
}
