using System.Text.Json;
using OpenSpe.Contracts;

namespace OpenSpe.Server.Terminal;

/// <summary>Parses the browser's control messages (text frames). The only one is <c>{"type":"resize","cols":C,"rows":R}</c>.</summary>
internal static class TerminalControl
{
    /// <summary>
    /// True for a well-formed resize: a JSON object with exactly <c>type</c> = <c>resize</c> and integer <c>cols</c> and <c>rows</c>
    /// from 1 to <see cref="TerminalProtocol.MaxWindowSide"/>. Anything else (other types, other members, repeated members, other
    /// values, not JSON) is false, and the session closes: an unknown control message is never ignored.
    /// </summary>
    public static bool TryParseResize(ReadOnlySpan<byte> json, out int rows, out int cols)
    {
        rows = cols = 0;
        string? type = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 2 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                {
                    return false;
                }

                switch (name)
                {
                    case "type" when type is null && reader.TokenType == JsonTokenType.String:
                        type = reader.GetString();
                        break;
                    case "cols" when cols == 0 && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var c) && c is >= 1 and <= TerminalProtocol.MaxWindowSide:
                        cols = c;
                        break;
                    case "rows" when rows == 0 && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var r) && r is >= 1 and <= TerminalProtocol.MaxWindowSide:
                        rows = r;
                        break;
                    default:
                        return false;
                }
            }

            return reader.TokenType == JsonTokenType.EndObject && !reader.Read() && type == TerminalProtocol.ResizeType && rows > 0 && cols > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
