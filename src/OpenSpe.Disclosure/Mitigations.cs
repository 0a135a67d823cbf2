namespace OpenSpe.Disclosure;

/// <summary>
/// What a researcher may do to a count before submitting it: suppression, rounding to a base, OpenSAFELY-style redaction
/// and midpoint-6 rounding. Each returns the value to publish; null means the cell is suppressed (print it as redacted).
/// </summary>
public static class Mitigations
{
    /// <summary>Suppresses a count below <paramref name="threshold"/> (zero stays zero only when <paramref name="zerosAllowed"/>).</summary>
    public static long? Suppress(long count, int threshold = 10, bool zerosAllowed = false) =>
        count == 0 ? (zerosAllowed ? 0 : null) : count < threshold ? null : count;

    /// <summary>Rounds to the nearest multiple of <paramref name="roundingBase"/> (halves away from zero: 12.5 → 15 for base 5).</summary>
    public static long RoundToBase(long count, int roundingBase = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(roundingBase, 1);
        return (long)Math.Round((double)count / roundingBase, MidpointRounding.AwayFromZero) * roundingBase;
    }

    /// <summary>OpenSAFELY: counts of 7 or less are redacted (null), the rest rounded to the nearest 5.</summary>
    public static long? RedactAndRound(long count) => count <= 7 ? null : RoundToBase(count, 5);

    /// <summary>Midpoint-6: <c>ceil(x/6)·6 − 3</c> for x &gt; 0; 0 stays 0 (so 1–6 → 3, 7–12 → 9).</summary>
    public static long Midpoint6(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return count == 0 ? 0 : (((count + 5) / 6) * 6) - 3;
    }
}
