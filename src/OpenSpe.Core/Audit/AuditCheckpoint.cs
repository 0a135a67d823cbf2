using System.Buffers;
using System.Text.Json;

namespace OpenSpe.Core.Audit;

/// <summary>Why a checkpoint was signed.</summary>
public static class AuditCheckpointKinds
{
    /// <summary>Signed because enough records or time accumulated since the last one.</summary>
    public const string Periodic = "periodic";

    /// <summary>Re-signed over an unchanged head so that a verifier can tell the log is live.</summary>
    public const string Idle = "idle";

    /// <summary>Signed when old records were purged; it anchors the first record kept.</summary>
    public const string Purge = "purge";

    /// <summary>Signed when the server stopped cleanly.</summary>
    public const string Shutdown = "shutdown";

    /// <summary>True for the kinds this version writes.</summary>
    public static bool IsKnown(string kind) => kind is Periodic or Idle or Purge or Shutdown;
}

/// <summary>
/// A signed statement "the log had <see cref="Sequence"/> records and the last one hashed to
/// <see cref="Hash"/> at <see cref="TimestampMicros"/>" (the signed-tree-head idea of RFC 9162).
/// </summary>
/// <param name="Sequence">Sequence number of the last record covered (0 for an empty log).</param>
/// <param name="Hash">Chain hash of that record.</param>
/// <param name="TimestampMicros">When it was signed.</param>
/// <param name="Kind">One of <see cref="AuditCheckpointKinds"/>.</param>
/// <param name="KeyId">Identifier of the signing key.</param>
/// <param name="Signature">ECDSA P-256 / SHA-256 signature (IEEE P1363, 64 bytes) over <see cref="SignedPayload"/>.</param>
public sealed record AuditCheckpoint(long Sequence, byte[] Hash, long TimestampMicros, string Kind, string KeyId, byte[] Signature)
{
    /// <summary>The exact bytes that are signed.</summary>
    public byte[] SignedPayload() => Payload(Sequence, Hash, TimestampMicros, Kind, KeyId);

    /// <summary>The canonical bytes signed for a checkpoint with these fields.</summary>
    public static byte[] Payload(long sequence, ReadOnlySpan<byte> hash, long timestampMicros, string kind, string keyId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "openspe-audit-checkpoint");
            writer.WriteNumber("v", AuditCanonicalForm.Version);
            writer.WriteNumber("seq", sequence);
            writer.WriteString("hash", Convert.ToHexStringLower(hash));
            writer.WriteString("ts", AuditTime.Format(timestampMicros));
            writer.WriteString("kind", kind);
            writer.WriteString("key", keyId);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
