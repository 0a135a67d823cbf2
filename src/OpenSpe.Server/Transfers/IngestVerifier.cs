using System.Security.Cryptography;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Transfers;

/// <summary>Why a completed upload was refused at ingest.</summary>
internal enum IngestFailure
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>Not a Crypt4GH file (plaintext, or another format).</summary>
    NotCrypt4gh,

    /// <summary>A Crypt4GH file, but not for this project's key.</summary>
    WrongKey,

    /// <summary>A segment did not authenticate, or the file is truncated.</summary>
    Corrupt,

    /// <summary>The plaintext's SHA-256 is not the one declared.</summary>
    ChecksumMismatch,

    /// <summary>The file type is not allowed for upload by the permit, by name or by content.</summary>
    FileTypeNotAllowed,
}

/// <summary>What ingest found.</summary>
internal sealed record IngestResult(IngestFailure Failure, string Sha256, string PlaintextSha256, long PlaintextSize, string Detail);

/// <summary>
/// What reading the ciphertext proved, before any policy is applied: a cryptographic failure
/// (<see cref="IngestFailure.NotCrypt4gh"/>, <see cref="IngestFailure.WrongKey"/>,
/// <see cref="IngestFailure.Corrupt"/>) or none, both SHA-256 values, and the plaintext's first bytes.
/// </summary>
internal sealed record IngestProof(IngestFailure Failure, string Detail, string Sha256, string PlaintextSha256, long PlaintextSize, byte[] Head);

/// <summary>
/// Proves a completed upload before it becomes a dataset file (TIR-5, SDR-3): it is Crypt4GH,
/// its header opens with the project key, every segment authenticates, the plaintext hashes to
/// what the holder declared, and its type is allowed by the permit by name and by content.
/// One streaming pass, constant memory; the project's private key is unwrapped only to open the
/// header, after its bytes have arrived. The pass can run on the staged file after the last byte
/// (<see cref="VerifyAsync"/>) or on the bytes as they arrive (<see cref="ProveAsync(string, Stream, CancellationToken)"/> fed by
/// <see cref="IngestSessions"/>), with the policy judged at completion either way (<see cref="Judge"/>).
/// </summary>
internal sealed class IngestVerifier(IProjectKeyStore keys)
{
    private const int BufferSize = 1024 * 1024;

    /// <summary>Verifies the staged ciphertext.</summary>
    public async Task<IngestResult> VerifyAsync(string projectId, string stagingPath, string filename, string declaredPlaintextSha256, IReadOnlyCollection<string> allowedTypes, CancellationToken cancellationToken)
    {
        if (RefuseName(filename, allowedTypes) is { } refused)
        {
            return refused;
        }

        await using var file = new FileStream(stagingPath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan | FileOptions.Asynchronous);
        return Judge(await ProveAsync(projectId, file, cancellationToken), filename, declaredPlaintextSha256, allowedTypes);
    }

    /// <summary>Reads the whole ciphertext once: header with the project key, every segment, both hashes.</summary>
    public Task<IngestProof> ProveAsync(string projectId, Stream ciphertext, CancellationToken cancellationToken) =>
        ProveAsync(projectId, ciphertext, hashCiphertext: true, cancellationToken);

    /// <summary>
    /// As <see cref="ProveAsync(string, Stream, CancellationToken)"/>; without <paramref name="hashCiphertext"/> the proof's
    /// <see cref="IngestProof.Sha256"/> is empty, for a caller that hashes the ciphertext on its own thread.
    /// </summary>
    internal async Task<IngestProof> ProveAsync(string projectId, Stream ciphertext, bool hashCiphertext, CancellationToken cancellationToken)
    {
        using var cipherHash = hashCiphertext ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        await using var hashing = new HashingReadStream(ciphertext, cipherHash);
        Crypt4ghHeader header;
        try
        {
            // Note: the header's bytes are read first (they may still be on their way); the key is unwrapped only to open them.
            var sealedHeader = await Crypt4ghHeader.ReadSealedAsync(hashing, cancellationToken);
            header = await keys.UsePrivateKeyAsync(projectId, sealedHeader.Open, cancellationToken);
        }
        catch (Crypt4ghException ex) when (ex.Kind == Crypt4ghErrorKind.NoMatchingKey)
        {
            return Failed(IngestFailure.WrongKey, "The file is encrypted for another key, not this project's.");
        }
        catch (Crypt4ghException)
        {
            return Failed(IngestFailure.NotCrypt4gh, "The file is not a Crypt4GH file: encrypt it for the project's public key before uploading.");
        }

        using var plainHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var head = new byte[FileTypes.SniffLength];
        var headLength = 0;
        long plaintextSize = 0;
        var buffer = new byte[BufferSize];
        try
        {
            await using var decrypting = new Crypt4ghDecryptingStream(hashing, header, leaveOpen: true);
            int read;
            while ((read = await decrypting.ReadAsync(buffer, cancellationToken)) > 0)
            {
                plainHash.AppendData(buffer, 0, read);
                if (headLength < head.Length)
                {
                    var take = Math.Min(read, head.Length - headLength);
                    Buffer.BlockCopy(buffer, 0, head, headLength, take);
                    headLength += take;
                }

                plaintextSize += read;
            }
        }
        catch (Crypt4ghException)
        {
            return Failed(IngestFailure.Corrupt, "A segment of the file does not authenticate: it is damaged or truncated.");
        }

        // Any bytes after the last segment still count toward the ciphertext hash.
        while (await hashing.ReadAsync(buffer, cancellationToken) > 0)
        {
        }

        return new IngestProof(IngestFailure.None, "", cipherHash is null ? "" : Convert.ToHexStringLower(cipherHash.GetHashAndReset()),
            Convert.ToHexStringLower(plainHash.GetHashAndReset()), plaintextSize, head[..headLength]);
    }

    /// <summary>Applies the declaration and the permit's upload policy to what the ciphertext proved.</summary>
    public static IngestResult Judge(IngestProof proof, string filename, string declaredPlaintextSha256, IReadOnlyCollection<string> allowedTypes)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (RefuseName(filename, allowedTypes) is { } refused)
        {
            return refused;
        }

        if (proof.Failure != IngestFailure.None)
        {
            return Fail(proof.Failure, proof.Detail);
        }

        if (!string.Equals(proof.PlaintextSha256, declaredPlaintextSha256, StringComparison.Ordinal))
        {
            return new IngestResult(IngestFailure.ChecksumMismatch, proof.Sha256, proof.PlaintextSha256, proof.PlaintextSize,
                "The decrypted file's SHA-256 differs from the declared plaintextSha256: it was corrupted or is not the file meant.");
        }

        var extension = FileTypes.ExtensionOf(filename)!;
        if (!FileTypes.ContentMatches(extension, proof.Head))
        {
            return new IngestResult(IngestFailure.FileTypeNotAllowed, proof.Sha256, proof.PlaintextSha256, proof.PlaintextSize, $"The content is not a '.{extension}' file.");
        }

        return new IngestResult(IngestFailure.None, proof.Sha256, proof.PlaintextSha256, proof.PlaintextSize, "");
    }

    private static IngestResult? RefuseName(string filename, IReadOnlyCollection<string> allowedTypes)
    {
        var extension = FileTypes.ExtensionOf(filename);
        return extension is null || !allowedTypes.Contains(extension)
            ? Fail(IngestFailure.FileTypeNotAllowed, $"'.{extension}' files are not allowed for upload by the permit.")
            : null;
    }

    private static IngestProof Failed(IngestFailure failure, string detail) => new(failure, detail, "", "", 0, []);

    private static IngestResult Fail(IngestFailure failure, string detail) => new(failure, "", "", 0, detail);

    /// <summary>Hashes everything read through it (when given a hash).</summary>
    private sealed class HashingReadStream(Stream inner, IncrementalHash? hash) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            hash?.AppendData(buffer, offset, read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            hash?.AppendData(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>File types by name and by content: the permit lists extensions; the first bytes must agree with the extension.</summary>
internal static class FileTypes
{
    /// <summary>How many leading plaintext bytes are inspected.</summary>
    public const int SniffLength = 4096;

    /// <summary>The lower-case extension without the dot, or null.</summary>
    public static string? ExtensionOf(string filename)
    {
        ArgumentNullException.ThrowIfNull(filename);
        var dot = filename.LastIndexOf('.');
        return dot <= 0 || dot == filename.Length - 1 ? null : filename[(dot + 1)..].ToLowerInvariant();
    }

    /// <summary>True when the leading bytes fit the extension (unknown extensions are judged by name only).</summary>
    public static bool ContentMatches(string extension, ReadOnlySpan<byte> head) => extension switch
    {
        "csv" or "tsv" or "txt" or "py" or "r" or "sql" or "md" or "json" or "xml" or "yaml" or "yml" => IsText(head),
        "parquet" => head.Length == 0 || head.StartsWith("PAR1"u8),
        "pdf" => head.StartsWith("%PDF"u8),
        "png" => head.StartsWith(new byte[] { 0x89, 0x50, 0x4E, 0x47 }),
        "gz" => head.StartsWith(new byte[] { 0x1F, 0x8B }),
        "zip" or "xlsx" or "docx" => head.StartsWith("PK"u8),
        _ => true,
    };

    private static bool IsText(ReadOnlySpan<byte> head)
    {
        // Text has no NUL bytes and few control characters; binary data almost always has both.
        var control = 0;
        foreach (var b in head)
        {
            if (b == 0)
            {
                return false;
            }

            if (b < 0x09 || (b > 0x0D && b < 0x20))
            {
                control++;
            }
        }

        return control * 100 <= head.Length;
    }
}
