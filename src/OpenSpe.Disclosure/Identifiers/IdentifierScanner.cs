using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace OpenSpe.Disclosure.Identifiers;

/// <summary>
/// Finds direct identifiers in UTF-8 text in one forward pass. It jumps (vectorised) to the bytes an identifier can start
/// at — a digit, an upper-case letter, '+', '@' or ':' — and tries the shapes that can start there; a shape whose check
/// digits are wrong is not reported, so counts and codes of the right length do not fail a file by chance.
/// </summary>
public static class IdentifierScanner
{
    private static readonly SearchValues<byte> Triggers = SearchValues.Create("0123456789+@:ABCDEFGHIJKLMNOPQRSTUVWXYZ"u8);
    private static readonly SearchValues<byte> EmailLocal = SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._%+-"u8);
    private static readonly SearchValues<byte> EmailDomain = SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-"u8);
    private static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789ABCDEFabcdef"u8);
    private static readonly SearchValues<byte> Ipv6Chars = SearchValues.Create("0123456789ABCDEFabcdef:."u8);

    /// <summary>Every identifier in <paramref name="utf8"/>, in the order they occur.</summary>
    public static IReadOnlyList<IdentifierMatch> Scan(ReadOnlySpan<byte> utf8)
    {
        var found = new List<(IdentifierKind Kind, int Offset)>();
        var i = 0;
        while (i < utf8.Length)
        {
            var next = utf8[i..].IndexOfAny(Triggers);
            if (next < 0)
            {
                break;
            }

            i += next;
            var b = utf8[i];
            var advance = b switch
            {
                >= (byte)'0' and <= (byte)'9' => AtDigit(utf8, i, found),
                (byte)'+' => AtPlus(utf8, i, found),
                (byte)'@' => AtSign(utf8, i, found),
                (byte)':' => AtColon(utf8, i, found),
                _ => AtUpper(utf8, i, found),
            };
            i += Math.Max(advance, 1);
        }

        return Locate(utf8, found);
    }

    private static bool IsAlnum(byte b) => (uint)(b - '0') <= 9 || (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    /// <summary>
    /// Length of the run of ASCII letters and digits at <paramref name="i"/>. Note: a scalar loop, because tokens are a few
    /// bytes long and a vectorised search costs more to set up than it saves there (this is the scanner's hot path).
    /// </summary>
    private static int AlnumRun(ReadOnlySpan<byte> s, int i)
    {
        var p = i;
        while (p < s.Length && IsAlnum(s[p]))
        {
            p++;
        }

        return p - i;
    }

    private static int DigitRun(ReadOnlySpan<byte> s, int i)
    {
        var p = i;
        while (p < s.Length && IsDigit(s[p]))
        {
            p++;
        }

        return p - i;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    /// <summary>A token may start here: the byte before is not a letter, digit or '.' (so "1.2.3.4.5" is not read from its middle).</summary>
    private static bool StartOk(ReadOnlySpan<byte> s, int i) => i == 0 || !(IsAlnum(s[i - 1]) || s[i - 1] == '.');

    /// <summary>A token may end here: end of text, or a byte that is not a letter or digit and not a '.' before a digit.</summary>
    private static bool EndOk(ReadOnlySpan<byte> s, int end) =>
        end >= s.Length || !(IsAlnum(s[end]) || (s[end] == '.' && end + 1 < s.Length && IsDigit(s[end + 1])));

    private static int Run(ReadOnlySpan<byte> s, int i, SearchValues<byte> values)
    {
        var n = s[i..].IndexOfAnyExcept(values);
        return n < 0 ? s.Length - i : n;
    }

    private static int AtDigit(ReadOnlySpan<byte> s, int i, List<(IdentifierKind, int)> found)
    {
        var token = AlnumRun(s, i);
        if (!StartOk(s, i))
        {
            return token;
        }

        var digits = DigitRun(s, i);
        if (digits <= 3 && Ipv4(s, i) is var ipLength and > 0)
        {
            found.Add((IdentifierKind.IPv4, i));
            return ipLength;
        }

        if (digits == 6 && i + 11 <= s.Length && EndOk(s, i + 11))
        {
            var candidate = s.Slice(i, 11);
            if (NationalIdChecks.FinnishHetu(candidate))
            {
                found.Add((IdentifierKind.FinnishHetu, i));
                return 11;
            }

            if (candidate[6] is (byte)'-' or (byte)'+' && NationalIdChecks.Digits(candidate[7..]))
            {
                Span<byte> ten = stackalloc byte[10];
                candidate[..6].CopyTo(ten);
                candidate[7..].CopyTo(ten[6..]);
                if (Swedish(ten, i, found) || (candidate[6] == '-' && Danish(ten, i, found)))
                {
                    return 11;
                }
            }
        }

        if (digits == 8 && i + 13 <= s.Length && s[i + 8] == '-' && NationalIdChecks.Digits(s.Slice(i + 9, 4)) && EndOk(s, i + 13))
        {
            Span<byte> ten = stackalloc byte[10];
            s.Slice(i + 2, 6).CopyTo(ten);
            s.Slice(i + 9, 4).CopyTo(ten[6..]);
            if (Swedish(ten, i, found))
            {
                return 13;
            }
        }

        if (!EndOk(s, i + digits))
        {
            return token;
        }

        var run = s.Slice(i, digits);
        switch (digits)
        {
            case 10:
                // Note: ten bare digits are read as a CPR only when the modulus-11 check holds; without a hyphen the shape is
                // too common (phone numbers, codes) to send to review on the date alone.
                _ = Swedish(run, i, found) || (NationalIdChecks.DanishCprDate(run, out var mod11) && mod11 && Add(found, IdentifierKind.DanishCpr, i));
                break;
            case 11:
                _ = (NationalIdChecks.NorwegianFodselsnummer(run) && Add(found, IdentifierKind.NorwegianFodselsnummer, i))
                    || (NationalIdChecks.EstonianIsikukood(run) && Add(found, IdentifierKind.EstonianIsikukood, i));
                break;
            case 12:
                _ = Swedish(run[2..], i, found);
                break;
            default:
                break;
        }

        return token;
    }

    private static bool Add(List<(IdentifierKind, int)> found, IdentifierKind kind, int offset)
    {
        found.Add((kind, offset));
        return true;
    }

    private static bool Swedish(ReadOnlySpan<byte> ten, int offset, List<(IdentifierKind, int)> found) =>
        NationalIdChecks.SwedishPersonnummer(ten)
        && Add(found, ten[4] >= '6' ? IdentifierKind.SwedishSamordningsnummer : IdentifierKind.SwedishPersonnummer, offset);

    private static bool Danish(ReadOnlySpan<byte> ten, int offset, List<(IdentifierKind, int)> found)
    {
        if (!NationalIdChecks.DanishCprDate(ten, out var modulus11))
        {
            return false;
        }

        // Note: since 2007 CPR numbers are issued without the modulus-11 property, so a hyphenated DDMMYY-SSSS with a valid
        // date fails the check-digit test yet may be a real CPR number: it is sent to review (a person looks) rather than
        // passed, and fails outright when the old check holds.
        return Add(found, modulus11 ? IdentifierKind.DanishCpr : IdentifierKind.DanishCprUnchecked, offset);
    }

    /// <summary>Length of a dotted-quad IPv4 address at <paramref name="i"/>, or 0.</summary>
    private static int Ipv4(ReadOnlySpan<byte> s, int i)
    {
        var p = i;
        for (var octet = 0; octet < 4; octet++)
        {
            if (octet > 0)
            {
                if (p >= s.Length || s[p] != '.')
                {
                    return 0;
                }

                p++;
            }

            var start = p;
            var value = 0;
            while (p < s.Length && IsDigit(s[p]) && p - start < 3)
            {
                value = (value * 10) + (s[p] - '0');
                p++;
            }

            if (p == start || value > 255 || (p - start > 1 && s[start] == '0'))
            {
                return 0;
            }
        }

        if (!EndOk(s, p))
        {
            return 0;
        }

        // An address with a port (10.0.0.1:8080) is still an address; a colon followed by anything else is left alone
        // because it is not an address's end we can tell apart from a label ("10.0.0.1:a").
        if (p < s.Length && s[p] == ':')
        {
            var port = DigitRun(s, p + 1);
            return port is >= 1 and <= 5 && EndOk(s, p + 1 + port) ? p + 1 + port - i : 0;
        }

        return p - i;
    }

    private static int AtPlus(ReadOnlySpan<byte> s, int i, List<(IdentifierKind, int)> found)
    {
        if ((i > 0 && IsAlnum(s[i - 1])) || i + 1 >= s.Length || s[i + 1] is < (byte)'1' or > (byte)'9')
        {
            return 1;
        }

        var p = i + 1;
        var digits = 0;
        var end = p;
        while (p < s.Length && digits <= 15)
        {
            if (IsDigit(s[p]))
            {
                digits++;
                p++;
                end = p;
            }
            else if (s[p] is (byte)' ' or (byte)'-' or (byte)'.' or (byte)'(' or (byte)')' && p + 1 < s.Length && (IsDigit(s[p + 1]) || s[p + 1] == '('))
            {
                p++;
            }
            else if (s[p] == ')' && p + 1 < s.Length && s[p + 1] == ' ')
            {
                p++;
            }
            else
            {
                break;
            }
        }

        if (digits is >= 8 and <= 15 && EndOk(s, end))
        {
            found.Add((IdentifierKind.Phone, i));
            return end - i;
        }

        return 1;
    }

    private static int AtSign(ReadOnlySpan<byte> s, int i, List<(IdentifierKind, int)> found)
    {
        var start = i;
        while (start > 0 && i - start < 64 && EmailLocal.Contains(s[start - 1]))
        {
            start--;
        }

        if (start == i || i + 1 >= s.Length)
        {
            return 1;
        }

        var domainLength = Run(s, i + 1, EmailDomain);
        var domain = s.Slice(i + 1, domainLength).TrimEnd("."u8);
        var lastDot = domain.LastIndexOf((byte)'.');
        if (lastDot <= 0 || domain.Length - lastDot - 1 < 2 || domain.IndexOf(".."u8) >= 0 || domain[0] == '-')
        {
            return 1;
        }

        foreach (var b in domain[(lastDot + 1)..])
        {
            if (!((b | 0x20) is >= (byte)'a' and <= (byte)'z'))
            {
                return 1;
            }
        }

        found.Add((IdentifierKind.Email, start));
        return 1 + domain.Length;
    }

    private static int AtColon(ReadOnlySpan<byte> s, int i, List<(IdentifierKind, int)> found)
    {
        var start = i;
        while (start > 0 && i - start < 39 && Ipv6Chars.Contains(s[start - 1]))
        {
            start--;
        }

        if (start > 0 && IsAlnum(s[start - 1]))
        {
            return 1;
        }

        // Note: the run is looked at only as far as an address can reach (45 bytes), because a run of colons or hex digits
        // is passed over one colon at a time: scanning it to its end from every colon took minutes on a 2 MB file.
        var window = s.Slice(start, Math.Min(45, s.Length - start));
        var inWindow = window.IndexOfAnyExcept(Ipv6Chars);
        var length = inWindow < 0 ? window.Length : inWindow;
        var candidate = s.Slice(start, length).TrimEnd("."u8);
        // Note: when the run is no IPv6 address, only the colon is passed over, because what follows it may be another
        // identifier ("pnr":8112289876 in JSON, a:10.0.0.1): skipping the whole run hid them.
        if (candidate.Count((byte)':') < 2 || !EndOk(s, start + candidate.Length) || candidate.IndexOfAny(HexDigits) < 0)
        {
            return 1;
        }

        Span<char> chars = stackalloc char[candidate.Length];
        for (var c = 0; c < candidate.Length; c++)
        {
            chars[c] = (char)candidate[c];
        }

        if (!IPAddress.TryParse(chars, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return 1;
        }

        found.Add((IdentifierKind.IPv6, start));
        return start + candidate.Length - i;
    }

    private static int AtUpper(ReadOnlySpan<byte> s, int i, List<(IdentifierKind, int)> found)
    {
        var token = AlnumRun(s, i);
        if (!StartOk(s, i) || i + 4 > s.Length || s[i + 1] is < (byte)'A' or > (byte)'Z' || !IsDigit(s[i + 2]) || !IsDigit(s[i + 3]))
        {
            return token;
        }

        // Contiguous (FI2112345600000785) or printed in groups split by single spaces or hyphens, of four as the standard
        // prints them (FI21 1234 5600 0007 85) or of any other size (FI21-123456-00000785, FI2112 3456 0000 0785).
        Span<byte> iban = stackalloc byte[34];
        var length = 0;
        var p = i;
        while (true)
        {
            var group = 0;
            while (p < s.Length && (IsDigit(s[p]) || s[p] is >= (byte)'A' and <= (byte)'Z') && length < 34)
            {
                iban[length++] = s[p++];
                group++;
            }

            if (length >= 15 && EndOk(s, p) && Mod97(iban[..length]))
            {
                found.Add((IdentifierKind.Iban, i));
                return p - i;
            }

            if (group > 0 && p + 1 < s.Length && s[p] is (byte)' ' or (byte)'-' && (IsDigit(s[p + 1]) || s[p + 1] is >= (byte)'A' and <= (byte)'Z') && length < 34)
            {
                p++;
                continue;
            }

            return token;
        }
    }

    private static bool Mod97(ReadOnlySpan<byte> iban)
    {
        var remainder = 0;
        for (var k = 0; k < iban.Length; k++)
        {
            var b = iban[(k + 4) % iban.Length];
            remainder = IsDigit(b)
                ? ((remainder * 10) + (b - '0')) % 97
                : ((remainder * 100) + (b - 'A' + 10)) % 97;
        }

        return remainder == 1;
    }

    /// <summary>Turns byte offsets into 1-based lines and character columns (counted in Unicode scalars) in one pass.</summary>
    private static List<IdentifierMatch> Locate(ReadOnlySpan<byte> s, List<(IdentifierKind Kind, int Offset)> found)
    {
        var result = new List<IdentifierMatch>(found.Count);
        var line = 1;
        var scanned = 0;

        // Note: the column is carried from one match to the next on the same line, not counted again from the line's start,
        // because a single line of many identifiers made that quadratic (an 800 KB line of e-mail addresses took 95 s).
        var column = 1;
        foreach (var (kind, offset) in found.OrderBy(f => f.Offset))
        {
            var between = s[scanned..offset];
            var lastNewline = between.LastIndexOf((byte)'\n');
            if (lastNewline >= 0)
            {
                line += between.Count((byte)'\n');
                between = between[(lastNewline + 1)..];
                column = 1;
            }

            foreach (var b in between)
            {
                if ((b & 0xC0) != 0x80)
                {
                    column++;
                }
            }

            scanned = offset;
            result.Add(new IdentifierMatch(kind, line, column));
        }

        return result;
    }
}
