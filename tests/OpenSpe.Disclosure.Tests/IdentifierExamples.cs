using System.Globalization;
using System.Numerics;

namespace OpenSpe.Disclosure.Tests;

/// <summary>
/// Valid identifiers built here from the published check-digit algorithms, written independently of the scanner's code,
/// and the same numbers with a wrong check digit.
/// </summary>
public static class IdentifierExamples
{
    /// <summary>Finnish HETU: DDMMYY, century sign, individual number, check character of the nine digits mod 31.</summary>
    public static string Hetu(string ddmmyy, char sign, string individual)
    {
        var remainder = (int)(long.Parse(ddmmyy + individual, CultureInfo.InvariantCulture) % 31);
        return ddmmyy + sign + individual + "0123456789ABCDEFHJKLMNPRSTUVWXY"[remainder];
    }

    /// <summary>The check digit that completes nine Swedish digits under Luhn (weights 2, 1, 2, …).</summary>
    public static char Luhn(string nine)
    {
        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            var product = (nine[i] - '0') * (i % 2 == 0 ? 2 : 1);
            sum += (product / 10) + (product % 10);
        }

        return (char)('0' + ((10 - (sum % 10)) % 10));
    }

    /// <summary>A Norwegian fødselsnummer for the date: the first individual number whose two check digits both exist.</summary>
    public static string Fodselsnummer(string ddmmyy)
    {
        int[] w1 = [3, 7, 6, 1, 8, 9, 4, 5, 2];
        int[] w2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
        for (var individual = 100; individual < 500; individual++)
        {
            var nine = ddmmyy + individual.ToString("000", CultureInfo.InvariantCulture);
            var k1 = 11 - (nine.Select((c, i) => (c - '0') * w1[i]).Sum() % 11);
            k1 = k1 == 11 ? 0 : k1;
            if (k1 == 10)
            {
                continue;
            }

            var ten = nine + k1;
            var k2 = 11 - (ten.Select((c, i) => (c - '0') * w2[i]).Sum() % 11);
            k2 = k2 == 11 ? 0 : k2;
            if (k2 != 10)
            {
                return ten + k2;
            }
        }

        throw new InvalidOperationException("no individual number gives valid check digits");
    }

    /// <summary>A Danish CPR number DDMMYY-SSSS whose weighted sum (4,3,2,7,6,5,4,3,2,1) is divisible by 11.</summary>
    public static string Cpr(string ddmmyy)
    {
        int[] w = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
        for (var serial = 1000; serial < 9999; serial++)
        {
            var digits = ddmmyy + serial.ToString(CultureInfo.InvariantCulture);
            if (digits.Select((c, i) => (c - '0') * w[i]).Sum() % 11 == 0)
            {
                return ddmmyy + "-" + serial.ToString(CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("no serial");
    }

    /// <summary>An Estonian isikukood: ten digits and the two-stage weighted mod-11 check digit.</summary>
    public static string Isikukood(string tenDigits)
    {
        int[] w1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 1];
        int[] w2 = [3, 4, 5, 6, 7, 8, 9, 1, 2, 3];
        var check = tenDigits.Select((c, i) => (c - '0') * w1[i]).Sum() % 11;
        if (check == 10)
        {
            check = tenDigits.Select((c, i) => (c - '0') * w2[i]).Sum() % 11;
            check = check == 10 ? 0 : check;
        }

        return tenDigits + check;
    }

    /// <summary>An IBAN: check digits 98 − (BBAN + country + "00" as a number, letters as 10–35) mod 97.</summary>
    public static string Iban(string country, string bban)
    {
        var numeric = string.Concat((bban + country + "00").Select(c => char.IsLetter(c) ? (c - 'A' + 10).ToString(CultureInfo.InvariantCulture) : c.ToString()));
        var check = 98 - (int)(BigInteger.Parse(numeric, CultureInfo.InvariantCulture) % 97);
        return country + check.ToString("00", CultureInfo.InvariantCulture) + bban;
    }

    /// <summary>The same identifier with its last character changed to another digit (or letter).</summary>
    public static string WrongLast(string id)
    {
        var last = id[^1];
        var other = char.IsDigit(last) ? (char)('0' + ((last - '0' + 1) % 10)) : (last == 'A' ? 'B' : 'A');
        return id[..^1] + other;
    }
}
