using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using OpenSpe.Crypt4gh;

namespace OpenSpe.Cli.Transfers;

/// <summary>What was staged (or hashed): sizes and SHA-256 (lowercase hex) of the bytes to send and of the plaintext.</summary>
internal sealed record StagedFile(long Length, string Sha256, long? PlaintextLength, string? PlaintextSha256);

/// <summary>
/// Client-side encryption before upload. A plaintext file is encrypted once, in one streaming pass that also hashes the
/// plaintext and the ciphertext, into a staged <c>.c4gh</c> file in the user's cache directory (mode 0600; it only ever
/// holds ciphertext). The upload then sends that file, so a resume days later re-sends exactly the bytes the server
/// already has a prefix of.
/// </summary>
/// <remarks>
/// Why a staged copy rather than encrypting on the fly while sending: Crypt4GH draws a fresh random data key, writer key
/// and per-segment nonce, so encrypting the same plaintext twice gives different bytes, and a resumed upload must continue
/// the very byte stream the server holds. Making it reproducible would mean writing the data key to disk next to the
/// state, and would still fail when the server's offset falls inside a segment whose nonce is lost. The staged copy costs
/// disk space equal to the ciphertext (checked before encrypting) and one extra read, and is deleted after success.
/// </remarks>
internal static class Crypt4ghStaging
{
    /// <summary>Bytes read per step: a multiple of the 64 KiB segment, so the encryptor never buffers a partial segment mid-file.</summary>
    public const int BlockSize = 4 << 20;

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>A header for one recipient and one data key: preamble (16) + one X25519 packet (4 + 4 + 32 + 12 + 40 + 16).</summary>
    public const int SingleRecipientHeaderLength = 16 + 108;

    /// <summary>The Crypt4GH size of <paramref name="plaintextLength"/> bytes: header, then 28 bytes (nonce and MAC) per 64 KiB segment.</summary>
    public static long CiphertextLength(long plaintextLength) =>
        SingleRecipientHeaderLength + plaintextLength + ((plaintextLength + Crypt4ghFile.SegmentSize - 1) / Crypt4ghFile.SegmentSize * (Crypt4ghFile.CipherSegmentSize - Crypt4ghFile.SegmentSize));

    /// <summary>
    /// Encrypts <paramref name="source"/> for <paramref name="recipient"/> into <paramref name="destination"/> (written under a
    /// temporary name and renamed, so a killed process never leaves a file that looks complete). Reading, hashing the
    /// plaintext and encrypting (with the ciphertext hash) overlap on separate threads; memory stays at a few blocks.
    /// </summary>
    public static async Task<StagedFile> EncryptAsync(string source, string destination, Crypt4ghPublicKey recipient, Action<long> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var directory = Path.GetDirectoryName(destination)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }

        var partial = destination + ".partial";
        File.Delete(partial);
        using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var expected = RandomAccess.GetLength(input);
        EnsureSpace(directory, CiphertextLength(expected));

        using var plainHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var cipherHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        try
        {
            var file = new FileStream(partial, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 1 << 20,
                UnixCreateMode = OwnerOnlyFile,
                PreallocationSize = CiphertextLength(expected),
            });
            await using (file)
            {
                await using var hashing = new HashingWriteStream(file, cipherHash);
                await using var encrypting = new Crypt4ghEncryptingStream(hashing, [recipient], new Crypt4ghEncryptionOptions { LeaveOpen = true });
                byte[][] buffers = [new byte[BlockSize], new byte[BlockSize]];
                var current = 0;
                var pending = ReadBlockAsync(input, buffers[current], 0, cancellationToken);
                while (true)
                {
                    var read = await pending;
                    if (read == 0)
                    {
                        break;
                    }

                    var block = buffers[current];
                    total += read;
                    current ^= 1;
                    pending = ReadBlockAsync(input, buffers[current], total, cancellationToken);
                    var hashing1 = Task.Run(() => plainHash.AppendData(block, 0, read), cancellationToken);
                    encrypting.Write(block, 0, read);
                    await hashing1;
                    progress(total);
                }

                encrypting.Complete();
            }

            if (total != expected || RandomAccess.GetLength(input) != expected)
            {
                throw new Client.SpeClientException($"{source} changed while it was being encrypted; run the command again once nothing writes to it");
            }

            File.Move(partial, destination, overwrite: true);
            return new StagedFile(new FileInfo(destination).Length, Hex(cipherHash), total, Hex(plainHash));
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>Hashes a file that is sent as it is (a pre-encrypted <c>.c4gh</c>).</summary>
    public static async Task<StagedFile> HashAsync(string path, Action<long> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        using var input = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[][] buffers = [new byte[BlockSize], new byte[BlockSize]];
        var current = 0;
        long total = 0;
        var pending = ReadBlockAsync(input, buffers[current], 0, cancellationToken);
        while (true)
        {
            var read = await pending;
            if (read == 0)
            {
                break;
            }

            var block = buffers[current];
            total += read;
            current ^= 1;
            pending = ReadBlockAsync(input, buffers[current], total, cancellationToken);
            hash.AppendData(block, 0, read);
            progress(total);
        }

        return new StagedFile(total, Hex(hash), null, null);
    }

    /// <summary>True when the file starts with the Crypt4GH magic and version 1.</summary>
    public static bool LooksLikeCrypt4gh(string path)
    {
        using var input = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> preamble = stackalloc byte[12];
        var read = 0;
        while (read < preamble.Length)
        {
            var n = RandomAccess.Read(input, preamble[read..], read);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return preamble[..8].SequenceEqual("crypt4gh"u8) && BitConverter.ToUInt32(preamble[8..]) == 1;
    }

    private static void EnsureSpace(string directory, long needed)
    {
        long available;
        try
        {
            available = new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return; // Unknown: let the write fail if it must.
        }

        if (available < needed + (64L << 20))
        {
            throw new Client.SpeClientException(
                $"{directory} has {TransferProgress.Bytes(available)} free, but the encrypted copy needs {TransferProgress.Bytes(needed)}; "
                + $"free some space or point {TransferPaths.CacheDirectoryVariable} at a larger disk");
        }
    }

    private static async Task<int> ReadBlockAsync(SafeFileHandle input, byte[] buffer, long offset, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = await RandomAccess.ReadAsync(input, buffer.AsMemory(filled), offset + filled, cancellationToken);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        return filled;
    }

    private static string Hex(IncrementalHash hash) => Convert.ToHexStringLower(hash.GetHashAndReset());

    /// <summary>Passes writes through to a stream and hashes them on the way.</summary>
    private sealed class HashingWriteStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
