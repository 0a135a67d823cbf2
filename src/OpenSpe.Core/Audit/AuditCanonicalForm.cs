using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace OpenSpe.Core.Audit;

/// <summary>
/// The canonical JSON of an audit record and the hash chain over it. The byte form is fixed:
/// a fixed member order, no whitespace, the default System.Text.Json escaping and details with
/// keys in ordinal order. Changing any of this is a new format version (<c>"v"</c>).
/// </summary>
public static class AuditCanonicalForm
{
    /// <summary>The format version written into every record.</summary>
    public const int Version = 1;

    /// <summary>Length of a chain hash in bytes.</summary>
    public const int HashSize = 32;

    /// <summary>Maximum details entries and value length; details are for small facts, never data.</summary>
    public const int MaxDetails = 32;

    /// <summary>Maximum length of one details value.</summary>
    public const int MaxDetailValueLength = 2048;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = true };

    /// <summary>The hash that the first record of a fresh log chains from.</summary>
    public static ReadOnlySpan<byte> GenesisHash => new byte[HashSize];

    /// <summary>Serializes details to their canonical JSON object; values are truncated to <see cref="MaxDetailValueLength"/>.</summary>
    public static string SerializeDetails(IReadOnlyDictionary<string, string>? details)
    {
        if (details is null || details.Count == 0)
        {
            return "{}";
        }

        if (details.Count > MaxDetails)
        {
            throw new ArgumentException($"An audit record carries at most {MaxDetails} details.", nameof(details));
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var pair in details.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var value = pair.Value.Length > MaxDetailValueLength ? pair.Value[..MaxDetailValueLength] : pair.Value;
                writer.WriteString(pair.Key, value);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the canonical JSON of a row (everything but its hash) to <paramref name="output"/>.</summary>
    public static void Write(AuditRow row, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(row);
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        Write(row, writer);
    }

    /// <summary>Writes the canonical JSON of a row with a caller-owned writer (reset by the caller between rows).</summary>
    public static void Write(AuditRow row, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(row);
        Write(new AuditRowEncoder().Encode(row), writer);
    }

    /// <summary>
    /// Writes the canonical JSON of a row's UTF-8 view: the one definition of the byte form, used
    /// both when a record is appended and when the stored bytes are verified.
    /// </summary>
    /// <exception cref="ArgumentException">A text column is not valid UTF-8 (only stored bytes can be).</exception>
    public static void Write(scoped in AuditRowUtf8 row, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("v"u8, Version);
        writer.WriteNumber("seq"u8, row.Sequence);
        Span<byte> timestamp = stackalloc byte[AuditTime.MaxUtf8Length];
        writer.WriteString("ts"u8, timestamp[..AuditTime.FormatUtf8(row.TimestampMicros, timestamp)]);
        writer.WriteStartObject("actor"u8);
        WriteNullable(writer, "sub"u8, row.ActorSubject);
        WriteNullable(writer, "name"u8, row.ActorUsername);
        writer.WriteStartArray("roles"u8);
        var roles = row.ActorRoles;
        foreach (var range in roles.Split((byte)' '))
        {
            if (!roles[range].IsEmpty)
            {
                writer.WriteStringValue(roles[range]);
            }
        }

        writer.WriteEndArray();
        WriteNullable(writer, "client"u8, row.ActorClientId);
        WriteNullable(writer, "ip"u8, row.SourceIp);
        WriteNullable(writer, "ua"u8, row.UserAgent);
        writer.WriteEndObject();
        writer.WriteString("action"u8, row.Action);
        writer.WriteStartObject("resource"u8);
        WriteNullable(writer, "type"u8, row.ResourceType);
        WriteNullable(writer, "id"u8, row.ResourceId);
        WriteNullable(writer, "project"u8, row.ProjectId);
        writer.WriteEndObject();
        writer.WriteString("outcome"u8, row.Outcome);
        if (row.HttpStatus is { } status)
        {
            writer.WriteNumber("status"u8, status);
        }
        else
        {
            writer.WriteNull("status"u8);
        }

        WriteNullable(writer, "trace"u8, row.TraceId);
        writer.WritePropertyName("details"u8);
        writer.WriteRawValue(row.DetailsJson, skipInputValidation: true);
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Computes <c>SHA-256(previousHash || canonicalJson)</c>.</summary>
    public static void ChainHash(ReadOnlySpan<byte> previousHash, ReadOnlySpan<byte> canonicalJson, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(previousHash);
        hash.AppendData(canonicalJson);
        hash.GetHashAndReset(destination);
    }

    private static void WriteNullable(Utf8JsonWriter writer, ReadOnlySpan<byte> name, Utf8Column value)
    {
        if (value.IsNull)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value.Bytes);
        }
    }
}
