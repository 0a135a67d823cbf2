using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OpenSpe.Server.Identity;

/// <summary>RFC 6238 TOTP: HMAC-SHA-1, 30-second steps, 6 digits, accepting one step either side for clock drift.</summary>
internal static class Totp
{
    /// <summary>Length of a step.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    /// <summary>Computes the code for a time step.</summary>
    public static string Compute(ReadOnlySpan<byte> secret, long step)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> mac = stackalloc byte[20];
#pragma warning disable CA5350 // RFC 6238 with SHA-1 is what every authenticator app implements; HMAC-SHA-1 is not affected by SHA-1 collisions.
        HMACSHA1.HashData(secret, counter, mac);
#pragma warning restore CA5350
        var offset = mac[19] & 0x0f;
        var binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
        return (binary % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The time step at <paramref name="time"/>.</summary>
    public static long StepAt(DateTimeOffset time) => time.ToUnixTimeSeconds() / (long)Step.TotalSeconds;

    /// <summary>
    /// Finds the step within ±1 of now whose code matches, or null. The caller must refuse a step
    /// at or before the last one accepted (a code is usable once).
    /// </summary>
    public static long? Match(ReadOnlySpan<byte> secret, string? code, DateTimeOffset now)
    {
        if (code is not { Length: 6 } || !code.All(char.IsAsciiDigit))
        {
            return null;
        }

        var current = StepAt(now);
        long? matched = null;
        for (var step = current - 1; step <= current + 1; step++)
        {
            // Note: every candidate is compared in constant time, and all three are always computed, so timing says nothing about which matched.
            if (CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(Compute(secret, step)), System.Text.Encoding.ASCII.GetBytes(code)))
            {
                matched = step;
            }
        }

        return matched;
    }
}
