namespace OpenSpe.Federation.Glm;

/// <summary>
/// Two-sided p-values for the coefficient tests: the standard normal (z, fixed dispersion) and Student's t (estimated
/// dispersion, as R's <c>summary.glm</c>). Computed from the regularized incomplete gamma and beta functions
/// (series and Lentz continued fractions), accurate to about 1e-14 relative over the range used.
/// </summary>
internal static class Distributions
{
    private const double Tiny = 1e-300;
    private const double Precision = 1e-16;
    private const int MaxIterations = 10_000;

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>P(|Z| ≥ |z|) for a standard normal Z.</summary>
    public static double NormalTwoSided(double z) => double.IsNaN(z) ? double.NaN : Erfc(Math.Abs(z) / Math.Sqrt(2));

    /// <summary>P(|T| ≥ |t|) for Student's t with <paramref name="df"/> degrees of freedom.</summary>
    public static double StudentTwoSided(double t, double df)
    {
        if (double.IsNaN(t) || !(df > 0))
        {
            return double.NaN;
        }

        return RegularizedBeta(df / (df + (t * t)), df / 2, 0.5);
    }

    /// <summary>erfc(x) for x ≥ 0, as Q(½, x²).</summary>
    public static double Erfc(double x) => x <= 0 ? 1 + Erf(-x) : UpperGamma(0.5, x * x);

    private static double Erf(double x) => x == 0 ? 0 : 1 - UpperGamma(0.5, x * x);

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        x -= 1;
        var sum = Lanczos[0];
        var t = x + 7.5;
        for (var i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }

        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    /// <summary>The regularized upper incomplete gamma function Q(a, x).</summary>
    public static double UpperGamma(double a, double x)
    {
        if (x <= 0)
        {
            return 1;
        }

        var logPrefix = (a * Math.Log(x)) - x - LogGamma(a);
        if (x < a + 1)
        {
            // Series for P(a, x).
            var term = 1 / a;
            var sum = term;
            for (var n = 1; n < MaxIterations; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * Precision)
                {
                    break;
                }
            }

            return 1 - (sum * Math.Exp(logPrefix));
        }

        // Continued fraction for Q(a, x) (modified Lentz).
        var b = x + 1 - a;
        var c = 1 / Tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < MaxIterations; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < Precision)
            {
                break;
            }
        }

        return Math.Exp(logPrefix) * h;
    }

    /// <summary>The regularized incomplete beta function I_x(a, b).</summary>
    public static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0)
        {
            return 0;
        }

        if (x >= 1)
        {
            return 1;
        }

        var logPrefix = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + (a * Math.Log(x)) + (b * Math.Log(1 - x));
        return x < (a + 1) / (a + b + 2)
            ? Math.Exp(logPrefix) * BetaFraction(x, a, b) / a
            : 1 - (Math.Exp(logPrefix) * BetaFraction(1 - x, b, a) / b);
    }

    private static double BetaFraction(double x, double a, double b)
    {
        var c = 1.0;
        var d = 1 - ((a + b) * x / (a + 1));
        d = Math.Abs(d) < Tiny ? Tiny : d;
        d = 1 / d;
        var h = d;
        for (var m = 1; m < MaxIterations; m++)
        {
            var m2 = 2 * m;
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + (aa * d);
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + (aa * d);
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = 1 + (aa / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < Precision)
            {
                break;
            }
        }

        return h;
    }
}
