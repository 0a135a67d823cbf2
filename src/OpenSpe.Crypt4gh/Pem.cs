using System.Text;

namespace OpenSpe.Crypt4gh;

/// <summary>The PEM-like armour of Crypt4GH key files: a BEGIN line, base64 lines and an END line.</summary>
internal static class Pem
{
    public const string PublicKeyLabel = "CRYPT4GH PUBLIC KEY";
    public const string PrivateKeyLabel = "CRYPT4GH PRIVATE KEY";
    public const string EncryptedPrivateKeyLabel = "CRYPT4GH ENCRYPTED PRIVATE KEY";

    public static string Encode(string label, ReadOnlySpan<byte> data)
    {
        var builder = new StringBuilder();
        builder.Append("-----BEGIN ").Append(label).Append("-----\n");
        builder.Append(Convert.ToBase64String(data)).Append('\n');
        builder.Append("-----END ").Append(label).Append("-----\n");
        return builder.ToString();
    }

    /// <summary>Decodes armoured text; returns the label and the bytes, or throws <see cref="Crypt4ghErrorKind.BadKeyFile"/>.</summary>
    public static (string Label, byte[] Data) Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0)
            .ToList();
        if (lines.Count < 2)
        {
            throw BadKey("The key text is not PEM armoured: it needs a BEGIN line, base64 content and an END line.");
        }

        const string begin = "-----BEGIN ";
        const string end = "-----END ";
        const string dashes = "-----";
        var first = lines[0];
        var last = lines[^1];
        if (!first.StartsWith(begin, StringComparison.Ordinal) || !first.EndsWith(dashes, StringComparison.Ordinal) || first.Length < begin.Length + dashes.Length)
        {
            throw BadKey("The key text does not start with a '-----BEGIN ...-----' line.");
        }

        var label = first[begin.Length..^dashes.Length];
        if (last != end + label + dashes)
        {
            throw BadKey($"The key text does not end with '-----END {label}-----'.");
        }

        var body = string.Concat(lines.Skip(1).Take(lines.Count - 2));
        try
        {
            return (label, Convert.FromBase64String(body));
        }
        catch (FormatException e)
        {
            throw new Crypt4ghException(Crypt4ghErrorKind.BadKeyFile, "The key text holds invalid base64.", e);
        }
    }

    public static Crypt4ghException BadKey(string message) => new(Crypt4ghErrorKind.BadKeyFile, message);
}
