using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using OpenSpe.Crypt4gh;
using OpenSpe.IO;

namespace OpenSpe.Cli.Transfers;

/// <summary>What was staged: the size of the ciphertext to send, and the plaintext's size and SHA-256 (lowercase hex).</summary>
internal sealed record StagedFile(long Length, long PlaintextLength, string PlaintextSha256);

/// <summary>
/// Client-side encryption before upload. A plaintext file is encrypted once, in one streaming pass that also hashes the
/// plaintext, into a staged <c>.c4gh</c> file in the user's cache directory (mode 0600; it only ever
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

    // Plaintext blocks in flight between the reader, the hasher and the encryptor.
    private const int SharedBlocks = 4;

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
    /// plaintext and encrypting overlap on separate threads; memory stays at a few blocks. (The ciphertext's own SHA-256 is
    /// not computed here: the server computes and lists it, and one more hash pass would cost as much as the encryption.)
    /// </summary>
    /// <remarks>
    /// With a <paramref name="watermark"/> the copy is written in place at <paramref name="destination"/> (made by
    /// <see cref="CreateEmpty"/>), and the watermark tells a concurrent upload how much of it is written; the caller then
    /// knows from its own state whether the copy is whole.
    /// </remarks>
    public static async Task<StagedFile> EncryptAsync(string source, string destination, Crypt4ghPublicKey recipient, Action<long> progress, CancellationToken cancellationToken,
        StagingWatermark? watermark = null)
    {
        ArgumentNullException.ThrowIfNull(progress);
        try
        {
            return await EncryptToAsync(source, destination, recipient, progress, watermark, cancellationToken);
        }
        catch (Exception ex)
        {
            watermark?.Fail(ex);
            throw;
        }
    }

    /// <summary>Creates (or empties) <paramref name="path"/> as an owner-only file for <see cref="EncryptAsync"/> to write in place.</summary>
    public static void CreateEmpty(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }

        File.Delete(path);
        using (new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile }))
        {
        }
    }

    private static async Task<StagedFile> EncryptToAsync(string source, string destination, Crypt4ghPublicKey recipient, Action<long> progress, StagingWatermark? watermark, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(destination)!;
        var inPlace = watermark is not null;
        var partial = inPlace ? destination : destination + ".partial";
        if (!inPlace)
        {
            CreateEmpty(partial);
        }

        using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var expected = RandomAccess.GetLength(input);
        EnsureSpace(directory, CiphertextLength(expected));

        using var plainHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        try
        {
            // Note: whole blocks go to the disk with O_DIRECT (DirectIo explains why), each written while the next is encrypted.
            using var writer = StagingFileWriter.Open(partial, 0, inPlace ? FileShare.Read : FileShare.None);
            var file = new OverlappedAppendStream(writer, BlockSize, watermark);
            await using (file)
            {
                await using var encrypting = new Crypt4ghEncryptingStream(file, [recipient], new Crypt4ghEncryptionOptions { LeaveOpen = true });
                // Note: one reader hands every block to two independent consumers, so hashing (the slower, on its own
                // thread) and encrypting never wait for each other block by block; a block is reused once both are done.
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var free = Channel.CreateUnbounded<SharedBlock>();
                for (var i = 0; i < SharedBlocks; i++)
                {
                    free.Writer.TryWrite(new SharedBlock(BlockSize));
                }

                var toHash = Channel.CreateUnbounded<SharedBlock>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                var toEncrypt = Channel.CreateUnbounded<SharedBlock>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                var reading = Task.Run(() => ReadAllAsync(input, free.Reader, toHash.Writer, toEncrypt.Writer, stop), stop.Token);
                var hashing = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await foreach (var block in toHash.Reader.ReadAllAsync(stop.Token))
                            {
                                plainHash.AppendData(block.Data, 0, block.Length);
                                block.Release(free.Writer);
                            }
                        }
                        catch
                        {
                            // Nothing is released any more: the reader and the encryptor must not wait for it.
                            await stop.CancelAsync();
                            throw;
                        }
                    }, stop.Token);
                try
                {
                    await foreach (var block in toEncrypt.Reader.ReadAllAsync(stop.Token))
                    {
                        encrypting.Write(block.Data, 0, block.Length);
                        total += block.Length;
                        block.Release(free.Writer);
                        progress(total);
                    }

                    await reading;
                    await hashing;
                }
                finally
                {
                    // A failure on any side stops the others (a reader waiting for a free block, a hasher waiting for work).
                    await stop.CancelAsync();
                    await Task.WhenAll(reading, hashing).ContinueWith(static _ => { }, TaskScheduler.Default);
                }

                encrypting.Complete();
                await file.FlushAsync(cancellationToken);
            }

            writer.FlushToDisk();

            if (total != expected || RandomAccess.GetLength(input) != expected)
            {
                throw new Client.SpeClientException($"{source} changed while it was being encrypted; run the command again once nothing writes to it");
            }

            if (inPlace)
            {
                watermark!.Complete();
            }
            else
            {
                File.Move(partial, destination, overwrite: true);
            }

            return new StagedFile(new FileInfo(destination).Length, total, Convert.ToHexStringLower(plainHash.GetHashAndReset()));
        }
        finally
        {
            if (!inPlace)
            {
                File.Delete(partial);
            }
        }
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

    private static async Task ReadAllAsync(SafeFileHandle input, ChannelReader<SharedBlock> free, ChannelWriter<SharedBlock> toHash, ChannelWriter<SharedBlock> toEncrypt, CancellationTokenSource stop)
    {
        var cancellationToken = stop.Token;
        try
        {
            long offset = 0;
            while (true)
            {
                var block = await free.ReadAsync(cancellationToken);
                var read = await ReadBlockAsync(input, block.Data, offset, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                block.Hand(read, consumers: 2);
                offset += read;
                toHash.TryWrite(block);
                toEncrypt.TryWrite(block);
            }

            toHash.TryComplete();
            toEncrypt.TryComplete();
        }
        catch (Exception ex)
        {
            toHash.TryComplete(ex);
            toEncrypt.TryComplete(ex);
            await stop.CancelAsync();
            throw;
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

    /// <summary>A block of plaintext read once and used by several consumers; it goes back to the free list when the last is done.</summary>
    private sealed class SharedBlock(int size)
    {
        private int _users;

        public byte[] Data { get; } = new byte[size];

        public int Length { get; private set; }

        public void Hand(int length, int consumers)
        {
            Length = length;
            Volatile.Write(ref _users, consumers);
        }

        public void Release(ChannelWriter<SharedBlock> free)
        {
            if (Interlocked.Decrement(ref _users) == 0)
            {
                free.TryWrite(this);
            }
        }
    }

    /// <summary>
    /// A write-only stream that gathers bytes into aligned blocks and appends each full block to a
    /// <see cref="StagingFileWriter"/> on another thread while the caller fills the next one (two blocks in all),
    /// advancing the watermark (if any) as each lands.
    /// </summary>
    private sealed class OverlappedAppendStream(StagingFileWriter writer, int blockSize, StagingWatermark? watermark) : Stream
    {
        private Memory<byte> _filling = DirectIo.AlignedBuffer(blockSize);
        private Memory<byte> _spare = DirectIo.AlignedBuffer(blockSize);
        private int _filled;
        private Task _writing = Task.CompletedTask;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                var take = Math.Min(buffer.Length, blockSize - _filled);
                buffer[..take].CopyTo(_filling.Span[_filled..]);
                _filled += take;
                buffer = buffer[take..];
                if (_filled == blockSize)
                {
                    StartWrite();
                }
            }
        }

        /// <summary>Writes what is gathered and waits until every write is done (errors surface here).</summary>
        public override void Flush()
        {
            if (_filled > 0)
            {
                StartWrite();
            }

            _writing.GetAwaiter().GetResult();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            Flush();
            return Task.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            // Note: a write still running must end before the file is closed under it; its error was or will be seen by Flush.
            _writing.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
            base.Dispose(disposing);
        }

        private void StartWrite()
        {
            // The previous block must be on its way out before its buffer is reused.
            _writing.GetAwaiter().GetResult();
            var block = _filling[.._filled];
            _writing = Task.Run(() =>
            {
                writer.Write(block.Span);
                watermark?.Advance(block.Length);
            });
            (_filling, _spare) = (_spare, _filling);
            _filled = 0;
        }
    }
}
