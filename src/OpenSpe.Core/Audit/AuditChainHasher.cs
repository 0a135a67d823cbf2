using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace OpenSpe.Core.Audit;

/// <summary>
/// Computes chain hashes for a run of rows with reused buffers: the hot path of both appending
/// and verifying, so it allocates nothing per row. Not thread-safe; one per writer or verifier.
/// </summary>
public sealed class AuditChainHasher : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Creates a hasher.</summary>
    public AuditChainHasher()
    {
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>Computes the hash of <paramref name="row"/> chained from <paramref name="previousHash"/> into <paramref name="destination"/>.</summary>
    public void Compute(AuditRow row, ReadOnlySpan<byte> previousHash, Span<byte> destination)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        AuditCanonicalForm.Write(row, _writer);
        _hash.AppendData(previousHash);
        _hash.AppendData(_buffer.WrittenSpan);
        _hash.GetHashAndReset(destination);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _writer.Dispose();
        _hash.Dispose();
    }
}
