using System.Globalization;
using System.Numerics;

namespace OpenSpe.Federation.Learning;

/// <summary>
/// A non-negative exact rational <c>Numerator / Denominator</c> in lowest terms (BigInteger), for noise variances and
/// privacy losses that must not drift as doubles do.
/// </summary>
public readonly record struct Rational : IComparable<Rational>
{
    /// <summary>Builds <paramref name="numerator"/> / <paramref name="denominator"/>, reduced.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The numerator is negative or the denominator is not positive.</exception>
    public Rational(BigInteger numerator, BigInteger denominator)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numerator);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(denominator);
        var gcd = BigInteger.GreatestCommonDivisor(numerator, denominator);
        if (gcd > BigInteger.One)
        {
            numerator /= gcd;
            denominator /= gcd;
        }

        Numerator = numerator;
        Denominator = denominator;
    }

    /// <summary>The numerator (≥ 0).</summary>
    public BigInteger Numerator { get; }

    /// <summary>The denominator (&gt; 0).</summary>
    public BigInteger Denominator { get; }

    /// <summary>Zero.</summary>
    public static Rational Zero { get; } = new(0, 1);

    /// <summary>Whether the value is zero.</summary>
    public bool IsZero => Numerator.IsZero;

    /// <summary>An integer as a rational.</summary>
    public static Rational FromInteger(BigInteger value) => new(value, 1);

    /// <summary>
    /// Parses a decimal written without exponent (<c>"12.25"</c>) or a fraction (<c>"49/4"</c>) exactly. Null when the
    /// text is neither or is negative.
    /// </summary>
    public static Rational? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 200)
        {
            return null;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            return TryDigits(text[..slash], out var n) && TryDigits(text[(slash + 1)..], out var d) && !d.IsZero ? new Rational(n, d) : null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return TryDigits(text, out var whole) ? FromInteger(whole) : null;
        }

        var fraction = text[(dot + 1)..];
        if (!TryDigits(text[..dot], out var integer) || !TryDigits(fraction, out var decimals))
        {
            return null;
        }

        var scale = BigInteger.Pow(10, fraction.Length);
        return new Rational((integer * scale) + decimals, scale);
    }

    private static bool TryDigits(string text, out BigInteger value)
    {
        value = BigInteger.Zero;
        return text.Length > 0 && text.All(char.IsAsciiDigit) && BigInteger.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The largest integer not above the value.</summary>
    public BigInteger Floor() => BigInteger.Divide(Numerator, Denominator);

    /// <summary>The smallest integer not below the value.</summary>
    public BigInteger Ceiling() => BigInteger.Divide(Numerator + Denominator - 1, Denominator);

    /// <summary>The nearest double (for display and for choosing parameters, never for accounting).</summary>
    public double ToDouble()
    {
        if (Numerator.IsZero)
        {
            return 0;
        }

        var (n, d) = ((double)Numerator, (double)Denominator);
        // Note: both parts can overflow a double (huge reduced fractions) though their ratio is small, so fall back to logs.
        return double.IsFinite(n) && double.IsFinite(d) ? n / d : Math.Exp(BigInteger.Log(Numerator) - BigInteger.Log(Denominator));
    }

    /// <inheritdoc />
    public int CompareTo(Rational other) => (Numerator * other.Denominator).CompareTo(other.Numerator * Denominator);

    /// <summary>Sum.</summary>
    public static Rational operator +(Rational a, Rational b) => new((a.Numerator * b.Denominator) + (b.Numerator * a.Denominator), a.Denominator * b.Denominator);

    /// <summary>Product.</summary>
    public static Rational operator *(Rational a, Rational b) => new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);

    /// <summary>Quotient; <paramref name="b"/> must not be zero.</summary>
    public static Rational operator /(Rational a, Rational b) => b.IsZero ? throw new DivideByZeroException() : new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

    /// <summary>Less than.</summary>
    public static bool operator <(Rational a, Rational b) => a.CompareTo(b) < 0;

    /// <summary>Greater than.</summary>
    public static bool operator >(Rational a, Rational b) => a.CompareTo(b) > 0;

    /// <summary>At most.</summary>
    public static bool operator <=(Rational a, Rational b) => a.CompareTo(b) <= 0;

    /// <summary>At least.</summary>
    public static bool operator >=(Rational a, Rational b) => a.CompareTo(b) >= 0;

    /// <inheritdoc />
    public override string ToString() => Denominator.IsOne ? Numerator.ToString(CultureInfo.InvariantCulture) : $"{Numerator.ToString(CultureInfo.InvariantCulture)}/{Denominator.ToString(CultureInfo.InvariantCulture)}";
}
