using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Server.Api;

/// <summary>
/// Reads every instant of a request as an ISO 8601 date and time with an explicit offset (<c>Z</c> or <c>±hh:mm</c>), and
/// refuses a date alone or a time without an offset: the serializer would read those in the server's own time zone, so the
/// same document would mean another instant on another server (a permit would start or end hours away from what was meant).
/// </summary>
internal sealed class StrictInstantConverter : JsonConverter<DateTimeOffset>
{
    /// <summary>The message the refusal carries; <see cref="JsonErrors"/> passes it on as the field error.</summary>
    internal const string OffsetRequiredMessage = "A time must be an ISO 8601 date and time with an offset, e.g. 2026-12-01T00:00:00Z or 2026-12-01T09:00:00+02:00.";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !HasTimeAndOffset(reader.GetString()!) || !reader.TryGetDateTimeOffset(out var value))
        {
            throw new JsonException(OffsetRequiredMessage);
        }

        return value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    /// <summary>True when <paramref name="text"/> has a time part and ends in <c>Z</c> or <c>±hh:mm</c>.</summary>
    internal static bool HasTimeAndOffset(string text) =>
        text.Contains('T', StringComparison.Ordinal)
        && (text.EndsWith('Z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':'));
}
