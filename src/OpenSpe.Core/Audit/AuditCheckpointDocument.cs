using System.Text.Json;

namespace OpenSpe.Core.Audit;

/// <summary>
/// A signed checkpoint with everything needed to check it anywhere: what
/// <c>GET /api/v1/audit/checkpoints/latest</c> answers, what the server pushes to its witnesses,
/// and one line of a witness file (JSON Lines, one checkpoint per line, oldest first).
/// </summary>
/// <param name="Sequence">Sequence of the last record covered.</param>
/// <param name="Hash">Chain hash of that record (64 lower-case hex digits).</param>
/// <param name="Timestamp">When it was signed (whole microseconds).</param>
/// <param name="Kind">periodic, idle, purge or shutdown.</param>
/// <param name="KeyId">First 16 hex digits of SHA-256 over the signing key's SubjectPublicKeyInfo.</param>
/// <param name="Signature">ECDSA P-256 / SHA-256 signature (IEEE P1363, base64) over <see cref="SignedPayload"/>.</param>
/// <param name="Algorithm">JOSE name of the signature algorithm (ES256).</param>
/// <param name="PublicKeyPem">The signing public key (SPKI PEM), so that a witness can pin it.</param>
/// <param name="SignedPayload">The exact UTF-8 JSON that is signed, for verifiers in other languages.</param>
public sealed record AuditCheckpointDocument(
    long Sequence,
    string Hash,
    DateTimeOffset Timestamp,
    string Kind,
    string KeyId,
    string Signature,
    string Algorithm,
    string PublicKeyPem,
    string SignedPayload)
{
    /// <summary>Describes a checkpoint signed by <paramref name="key"/>.</summary>
    public static AuditCheckpointDocument From(AuditCheckpoint checkpoint, AuditSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(key);
        return new AuditCheckpointDocument(checkpoint.Sequence, Convert.ToHexStringLower(checkpoint.Hash), AuditTime.FromMicros(checkpoint.TimestampMicros),
            checkpoint.Kind, checkpoint.KeyId, Convert.ToBase64String(checkpoint.Signature), "ES256", key.ExportPublicKeyPem(),
            System.Text.Encoding.UTF8.GetString(checkpoint.SignedPayload()));
    }

    /// <summary>The checkpoint it describes; the signature is not checked here.</summary>
    /// <exception cref="FormatException">A field is malformed.</exception>
    public AuditCheckpoint ToCheckpoint()
    {
        if (Sequence < 0 || Hash is not { Length: AuditCanonicalForm.HashSize * 2 } || Kind is null || KeyId is null || Signature is null)
        {
            throw new FormatException("the checkpoint has a negative sequence, a hash that is not 64 hex digits, or a missing field");
        }

        var micros = AuditTime.ToMicros(Timestamp);
        if (AuditTime.FromMicros(micros) != Timestamp.ToUniversalTime())
        {
            throw new FormatException("the checkpoint time has more than microsecond precision");
        }

        return new AuditCheckpoint(Sequence, Convert.FromHexString(Hash), micros, Kind, KeyId, Convert.FromBase64String(Signature));
    }

    /// <summary>One compact JSON line (no line break).</summary>
    public string ToJsonLine() => JsonSerializer.Serialize(this, AuditJson.Options);

    /// <summary>Parses one JSON line.</summary>
    /// <exception cref="FormatException">Not a checkpoint document.</exception>
    public static AuditCheckpointDocument Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<AuditCheckpointDocument>(json, AuditJson.Options) ?? throw new FormatException("the line is null");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not a checkpoint: {ex.Message}", ex);
        }
    }
}
