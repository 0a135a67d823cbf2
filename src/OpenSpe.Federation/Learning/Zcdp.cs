using System.Numerics;

namespace OpenSpe.Federation.Learning;

/// <summary>
/// Zero-concentrated differential privacy (Bun and Steinke 2016) for discrete Gaussian releases: the loss ρ of one
/// release, composition by addition, and the conversion to (ε, δ) for display and from the permit's (ε, δ) budget.
/// </summary>
public static class Zcdp
{
    /// <summary>
    /// ρ = Δ² / (2σ²) of one release of an integer vector with L2 sensitivity Δ (given as Δ²) plus independent
    /// N_Z(0, σ²) noise on each coordinate (Canonne, Kamath and Steinke 2020, theorem 14), exactly.
    /// </summary>
    public static Rational RhoOfRelease(Rational sensitivitySquared, Rational variance) =>
        variance.IsZero ? throw new ArgumentOutOfRangeException(nameof(variance), "the noise variance must be above 0")
        : sensitivitySquared / (variance * Rational.FromInteger(2));

    /// <summary>ε = ρ + 2·√(ρ·ln(1/δ)): the (ε, δ)-DP that ρ-zCDP implies, for display.</summary>
    public static double Epsilon(double rho, double delta)
    {
        CheckDelta(delta);
        return rho <= 0 ? 0 : rho + (2 * Math.Sqrt(rho * Math.Log(1 / delta)));
    }

    /// <summary>The largest ρ whose <see cref="Epsilon"/> is at most <paramref name="epsilon"/>: (√(L + ε) − √L)², L = ln(1/δ).</summary>
    public static double RhoForEpsilon(double epsilon, double delta)
    {
        CheckDelta(delta);
        if (!double.IsFinite(epsilon) || epsilon <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), "ε must be above 0 and finite");
        }

        var l = Math.Log(1 / delta);
        // Note: written as ε² / (√(L + ε) + √L)² rather than the difference of square roots, which cancels badly when L ≫ ε.
        var denominator = Math.Sqrt(l + epsilon) + Math.Sqrt(l);
        return epsilon * epsilon / (denominator * denominator);
    }

    /// <summary>
    /// The smallest σ² on the grid of 1/1000 with Δ²/(2σ²) ≤ <paramref name="rho"/>: the noise that spends at most ρ.
    /// </summary>
    public static Rational VarianceForRho(Rational sensitivitySquared, double rho)
    {
        if (!double.IsFinite(rho) || rho <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rho), "ρ must be above 0 and finite");
        }

        var estimate = sensitivitySquared.ToDouble() / (2 * rho);
        var thousandths = new BigInteger(Math.Ceiling(estimate * 1000)) + 1;
        var variance = new Rational(BigInteger.Max(thousandths, BigInteger.One), 1000);
        // Note: the estimate is a double; step up on the exact grid until the exact ρ is within the request, because an
        // under-noised round would spend more than the requester agreed to.
        var limit = RhoUnits.FloorOf(rho);
        while (RhoUnits.CeilingOf(RhoOfRelease(sensitivitySquared, variance)) > limit)
        {
            variance = new Rational((variance.Numerator * 1001 / variance.Denominator) + 1, 1000);
        }

        return variance;
    }

    private static void CheckDelta(double delta)
    {
        if (!double.IsFinite(delta) || delta <= 0 || delta >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), "δ must be above 0 and below 1");
        }
    }
}

/// <summary>
/// Privacy loss ρ as a fixed-point integer: units of 10⁻¹² ρ. Ledgers store and add these, never doubles, so a sum of
/// many rounds is exact and a stored value reads back as written.
/// </summary>
public static class RhoUnits
{
    /// <summary>Units in one ρ.</summary>
    public const long PerRho = 1_000_000_000_000;

    /// <summary>The units a release of exact loss <paramref name="rho"/> costs: rounded up, so rounding never spends less than the truth.</summary>
    public static long CeilingOf(Rational rho)
    {
        var units = (rho * Rational.FromInteger(PerRho)).Ceiling();
        return units > long.MaxValue ? long.MaxValue : (long)units;
    }

    /// <summary>The units a budget of <paramref name="rho"/> allows: rounded down, less two units for the double's error.</summary>
    public static long FloorOf(double rho)
    {
        if (!double.IsFinite(rho) || rho <= 0)
        {
            return 0;
        }

        var units = Math.Floor(rho * PerRho) - 2;
        return units <= 0 ? 0 : units >= long.MaxValue ? long.MaxValue : (long)units;
    }

    /// <summary>ρ of <paramref name="units"/> as a double, for display.</summary>
    public static double ToRho(long units) => units / (double)PerRho;
}
