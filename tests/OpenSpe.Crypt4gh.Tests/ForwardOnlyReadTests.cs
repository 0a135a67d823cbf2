using OpenSpe.Crypt4gh;

namespace OpenSpe.Crypt4gh.Tests;

/// <summary>
/// Regression: reading a forward-only input (a pipe, a network stream) with whole-segment
/// buffers must end cleanly after a short last segment, not try to fetch that segment again.
/// </summary>
public sealed class ForwardOnlyReadTests
{
    [Theory]
    [InlineData(65_536 + 10, 65_536)]
    [InlineData(3 * 65_536 + 1, 1 << 20)]
    [InlineData(100, 65_536)]
    public async Task Whole_segment_reads_from_a_forward_only_input_end_cleanly(int size, int bufferSize)
    {
        using var key = Crypt4ghPrivateKey.Generate();
        var plaintext = new byte[size];
        Random.Shared.NextBytes(plaintext);
        using var encrypted = new MemoryStream();
        Crypt4ghFile.Encrypt(new MemoryStream(plaintext), encrypted, [key.PublicKey]);

        await using var input = new ForwardOnly(new MemoryStream(encrypted.ToArray()));
        await using var decrypting = await Crypt4ghDecryptingStream.OpenAsync(input, key);
        using var output = new MemoryStream();
        var buffer = new byte[bufferSize];
        int read;
        while ((read = await decrypting.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        Assert.Equal(plaintext, output.ToArray());
        Assert.Equal(0, decrypting.Read(buffer, 0, buffer.Length));
    }

    private sealed class ForwardOnly(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
