using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Server.Hosting;

/// <summary>An account seeded by <c>spe server --dev</c>.</summary>
/// <param name="Username">Login name.</param>
/// <param name="Password">Random password.</param>
/// <param name="TotpSecret">Base32 TOTP secret (RFC 6238, SHA-1, 30 s, 6 digits).</param>
/// <param name="Roles">Roles granted.</param>
public sealed record DevAccount(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password,
    [property: JsonPropertyName("totpSecret")] string TotpSecret,
    [property: JsonPropertyName("roles")] IReadOnlyList<string> Roles);

/// <summary>The dev accounts file: generated once with random secrets, mode 0600, then reused.</summary>
internal static class DevAccounts
{
    /// <summary>File name in the data directory.</summary>
    public const string FileName = "dev-accounts.json";

    private static readonly (string Username, string[] Roles)[] Seeds =
    [
        ("hdab", ["hdab"]),
        ("checker", ["output-checker"]),
        ("checker2", ["output-checker"]),
        ("holder", ["data-holder"]),
        ("researcher", ["researcher"]),
        ("researcher2", ["researcher"]),
        ("operator", ["operator"]),
        ("auditor", ["auditor"]),
        ("admin", ["admin"]),
    ];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Loads the dev accounts, creating them with fresh random secrets on first start.</summary>
    public static IReadOnlyList<DevAccount> LoadOrCreate(DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = directory.File(FileName);
        if (File.Exists(path))
        {
            return JsonSerializer.Deserialize<List<DevAccount>>(File.ReadAllText(path)) ?? [];
        }

        var accounts = Seeds.Select(s => new DevAccount(s.Username, RandomPassword(), RandomTotpSecret(), s.Roles)).ToList();
        directory.WriteSecret(FileName, JsonSerializer.Serialize(accounts, Json));
        return accounts;
    }

    private static string RandomPassword()
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }

    private static string RandomTotpSecret() => Base32.Encode(RandomNumberGenerator.GetBytes(20));
}

/// <summary>RFC 4648 base32 without padding, as authenticator apps expect.</summary>
internal static class Base32
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>Encodes bytes.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var output = new System.Text.StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                output.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            output.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return output.ToString();
    }

    /// <summary>Decodes base32 (case-insensitive, padding and spaces ignored).</summary>
    /// <exception cref="FormatException">A character outside the alphabet.</exception>
    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            if (c is '=' or ' ' or '-')
            {
                continue;
            }

            var value = Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                throw new FormatException("not base32");
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                output.Add((byte)((buffer >> (bits - 8)) & 0xff));
                bits -= 8;
            }
        }

        return [.. output];
    }
}
