using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Server.Api;

/// <summary>
/// What text the API accepts (TIR-9, TIR-17): valid UTF-8 only; no control characters other than tab
/// and line breaks in any string; and in file names, no control, bidirectional-override or zero-width
/// characters, which can make a name display as another (<c>invoice\u202Efdp.exe</c> shows as <c>invoiceexe.pdf</c>).
/// </summary>
internal static class TextRules
{
    /// <summary>UTF-8 that throws on invalid bytes instead of substituting U+FFFD.</summary>
    public static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>True when <paramref name="text"/> holds a control character other than tab, LF or CR, or a lone surrogate.</summary>
    public static bool HasForbiddenCharacter(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c) && c is not ('\t' or '\n' or '\r'))
            {
                return true;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True for a character a file name must not contain: control, bidirectional embedding/override/isolate, zero-width.</summary>
    public static bool IsUnsafeInFileName(char c) =>
        char.IsControl(c)
        || c is >= '\u202A' and <= '\u202E' // LRE, RLE, PDF, LRO, RLO
        || c is >= '\u2066' and <= '\u2069' // LRI, RLI, FSI, PDI
        || c is >= '\u200B' and <= '\u200D' // zero-width space, non-joiner, joiner
        || c is '\u2060' or '\uFEFF'; // word joiner, zero-width no-break space (BOM)
}

/// <summary>Reads every JSON string of a request through <see cref="TextRules.HasForbiddenCharacter"/>.</summary>
internal sealed class StrictStringConverter : JsonConverter<string>
{
    /// <summary>The message the refusal carries; <see cref="JsonErrors"/> turns it into the field error.</summary>
    internal const string ControlCharacterMessage = "The JSON string contains a control character.";

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Check(reader.GetString());

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Check(reader.GetString())!;

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WritePropertyName(value);

    private static string? Check(string? value) =>
        // Note: refused, not stripped, because a NUL or an escape sequence in a stored name or reason can cut or rewrite what
        // another tool (a terminal, a log viewer, a C library) shows.
        value is not null && TextRules.HasForbiddenCharacter(value) ? throw new JsonException(ControlCharacterMessage) : value;
}
