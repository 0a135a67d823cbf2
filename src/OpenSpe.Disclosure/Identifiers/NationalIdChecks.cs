namespace OpenSpe.Disclosure.Identifiers;

/// <summary>
/// The published check-digit algorithms of the Nordic and Baltic personal identity numbers, on ASCII digits. Each method
/// takes exactly the identifier's characters (shape already matched) and says whether date and check digits are valid.
/// </summary>
internal static class NationalIdChecks
{
    private const string HetuCheckCharacters = "0123456789ABCDEFHJKLMNPRSTUVWXY";

    /// <summary>Finnish HETU <c>DDMMYYCZZZQ</c>: century sign, individual number, check character of (DDMMYYZZZ mod 31).</summary>
    public static bool FinnishHetu(ReadOnlySpan<byte> s)
    {
        if (s.Length != 11 || !Digits(s[..6]) || !Digits(s[7..10]) || !"+-ABCDEFUVWXY"u8.Contains(s[6]) || !ValidDate(Number(s[..2]), Number(s[2..4]), Number(s[4..6])))
        {
            return false;
        }

        var value = (Number(s[..6]) * 1000) + Number(s[7..10]);
        return Number(s[7..10]) >= 2 && HetuCheckCharacters[(int)(value % 31)] == s[10];
    }

    /// <summary>
    /// Swedish personnummer or samordningsnummer (day + 60): the ten digits <c>YYMMDDNNNC</c>, Luhn over all ten.
    /// </summary>
    public static bool SwedishPersonnummer(ReadOnlySpan<byte> tenDigits)
    {
        if (tenDigits.Length != 10 || !Digits(tenDigits))
        {
            return false;
        }

        var day = Number(tenDigits[4..6]);
        if (!ValidDate(day > 60 ? day - 60 : day, Number(tenDigits[2..4]), Number(tenDigits[..2])))
        {
            return false;
        }

        var sum = 0;
        for (var i = 0; i < 10; i++)
        {
            var d = (tenDigits[i] - '0') * (i % 2 == 0 ? 2 : 1);
            sum += d > 9 ? d - 9 : d;
        }

        return sum % 10 == 0;
    }

    /// <summary>Norwegian fødselsnummer (or D-number, day + 40; H-number, month + 40) <c>DDMMYYIIIKK</c>: both mod-11 check digits.</summary>
    public static bool NorwegianFodselsnummer(ReadOnlySpan<byte> s)
    {
        if (s.Length != 11 || !Digits(s))
        {
            return false;
        }

        var day = Number(s[..2]);
        var month = Number(s[2..4]);
        if (!ValidDate(day > 40 ? day - 40 : day, month > 40 ? month - 40 : month, Number(s[4..6])))
        {
            return false;
        }

        ReadOnlySpan<int> w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
        ReadOnlySpan<int> w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
        return Mod11Digit(s, w1) == s[9] - '0' && Mod11Digit(s, w2) == s[10] - '0';
    }

    /// <summary>Danish CPR <c>DDMMYYSSSS</c>: a valid date; <paramref name="modulus11"/> tells whether the old weights 4,3,2,7,6,5,4,3,2,1 sum to a multiple of 11.</summary>
    public static bool DanishCprDate(ReadOnlySpan<byte> tenDigits, out bool modulus11)
    {
        modulus11 = false;
        if (tenDigits.Length != 10 || !Digits(tenDigits) || !ValidDate(Number(tenDigits[..2]), Number(tenDigits[2..4]), Number(tenDigits[4..6])))
        {
            return false;
        }

        ReadOnlySpan<int> weights = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
        var sum = 0;
        for (var i = 0; i < 10; i++)
        {
            sum += (tenDigits[i] - '0') * weights[i];
        }

        modulus11 = sum % 11 == 0;
        return true;
    }

    /// <summary>Estonian isikukood <c>GYYMMDDSSSC</c>: G 1–6, a valid date, the two-stage mod-11 check digit.</summary>
    public static bool EstonianIsikukood(ReadOnlySpan<byte> s)
    {
        if (s.Length != 11 || !Digits(s) || s[0] < '1' || s[0] > '6' || !ValidDate(Number(s[5..7]), Number(s[3..5]), Number(s[1..3])))
        {
            return false;
        }

        ReadOnlySpan<int> w1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1];
        ReadOnlySpan<int> w2 = [3, 4, 5, 6, 7, 8, 9, 1, 2, 3];
        var check = Weighted(s, w1) % 11;
        if (check == 10)
        {
            check = Weighted(s, w2) % 11;
            check = check == 10 ? 0 : check;
        }

        return check == s[10] - '0';
    }

    public static bool Digits(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
        }

        return true;
    }

    private static int Mod11Digit(ReadOnlySpan<byte> s, ReadOnlySpan<int> weights)
    {
        var check = 11 - (Weighted(s, weights) % 11);

        // Note: 11 means check digit 0; 10 has no digit, so no valid number has it (-1 never equals a digit).
        return check == 11 ? 0 : check == 10 ? -1 : check;
    }

    private static int Weighted(ReadOnlySpan<byte> s, ReadOnlySpan<int> weights)
    {
        var sum = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            sum += (s[i] - '0') * weights[i];
        }

        return sum;
    }

    private static long Number(ReadOnlySpan<byte> digits)
    {
        long n = 0;
        foreach (var b in digits)
        {
            n = (n * 10) + (b - '0');
        }

        return n;
    }

    /// <summary>Day 1–31 within the month's length; 29 February whenever the two-digit year is divisible by 4 (the century is not known).</summary>
    private static bool ValidDate(long day, long month, long twoDigitYear)
    {
        if (month is < 1 or > 12 || day < 1)
        {
            return false;
        }

        var days = month switch
        {
            2 => twoDigitYear % 4 == 0 ? 29 : 28,
            4 or 6 or 9 or 11 => 30,
            _ => 31,
        };
        return day <= days;
    }
}
