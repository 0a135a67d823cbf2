using System.Numerics;

namespace OpenSpe.Federation.Learning;

/// <summary>
/// An exact sampler of the discrete Gaussian N_Z(0, σ²) with rational σ² (Canonne, Kamath and Steinke 2020, "The
/// Discrete Gaussian for Differential Privacy", algorithms 1–3): Bernoulli(exp(−γ)) by the exact alternating series,
/// the discrete Laplace by rejection, then the discrete Gaussian by rejection from it.
/// </summary>
/// <remarks>
/// Note: every step is integer or rational arithmetic on <see cref="BigInteger"/> with uniform integers drawn by
/// rejection from <see cref="IRandomSource"/>, because floating-point noise (the textbook Laplace) leaks through the
/// gaps and rounding of the doubles it produces (Mironov 2012, "On Significance of the Least Significant Bits for
/// Differential Privacy"). The output's distribution is exactly the discrete Gaussian; only its running time is random.
/// Not thread-safe when the source is not; one instance per stream.
/// </remarks>
public sealed class DiscreteGaussian
{
    /// <summary>The largest σ² accepted (2^64): larger noise drowns any update and only costs time.</summary>
    public static readonly Rational MaxVariance = Rational.FromInteger(BigInteger.One << 64);

    private readonly IRandomSource _random;

    /// <summary>A sampler drawing its randomness from <paramref name="random"/>.</summary>
    public DiscreteGaussian(IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
    }

    /// <summary>Why <paramref name="variance"/> cannot be used as σ², or null when it can (0 &lt; σ² ≤ 2^64).</summary>
    public static string? CheckVariance(Rational variance) =>
        variance.IsZero ? "the noise variance must be above 0"
        : variance > MaxVariance ? "the noise variance must be at most 2^64"
        : null;

    /// <summary>One draw of N_Z(0, σ²).</summary>
    /// <exception cref="ArgumentOutOfRangeException">σ² is 0 or above <see cref="MaxVariance"/>.</exception>
    public BigInteger Sample(Rational variance)
    {
        if (CheckVariance(variance) is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(variance), problem);
        }

        // Algorithm 3: t = ⌊σ⌋ + 1; Y ~ DLap(t); accept with probability exp(−(|Y| − σ²/t)² / (2σ²)).
        var p = variance.Numerator;
        var q = variance.Denominator;
        var t = IntegerSqrt(variance.Floor()) + 1;
        while (true)
        {
            var y = SampleDiscreteLaplace(1, t);
            // (|Y| − p/(q t))² / (2 p / q) = (|Y| q t − p)² / (2 p q t²), exactly.
            var gap = (BigInteger.Abs(y) * q * t) - p;
            if (BernoulliExpMinus(new Rational(gap * gap, 2 * p * q * t * t)))
            {
                return y;
            }
        }
    }

    /// <summary>Fills <paramref name="target"/> with independent draws of N_Z(0, σ²).</summary>
    public void Sample(Rational variance, Span<BigInteger> target)
    {
        for (var i = 0; i < target.Length; i++)
        {
            target[i] = Sample(variance);
        }
    }

    /// <summary>Algorithm 2: the discrete Laplace with scale t/s, P(x) ∝ exp(−|x| s/t), for integers s, t ≥ 1.</summary>
    internal BigInteger SampleDiscreteLaplace(BigInteger s, BigInteger t)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(s, BigInteger.One);
        ArgumentOutOfRangeException.ThrowIfLessThan(t, BigInteger.One);
        while (true)
        {
            var u = UniformBelow(t);
            if (!BernoulliExpMinus(new Rational(u, t)))
            {
                continue;
            }

            var v = BigInteger.Zero;
            while (BernoulliExpMinus(Rational.FromInteger(1)))
            {
                v++;
            }

            var y = ((u + (t * v)) / s);
            var negative = Bernoulli(new Rational(1, 2));
            if (negative && y.IsZero)
            {
                continue;
            }

            return negative ? -y : y;
        }
    }

    /// <summary>Algorithm 1: true with probability exactly exp(−γ), γ ≥ 0 rational.</summary>
    internal bool BernoulliExpMinus(Rational gamma)
    {
        // For γ > 1, exp(−γ) = exp(−1)^⌊γ⌋ · exp(−(γ − ⌊γ⌋)): all the factors must come up true.
        var whole = gamma.Floor();
        for (var k = BigInteger.Zero; k < whole; k++)
        {
            if (!BernoulliExpMinusAtMostOne(Rational.FromInteger(1)))
            {
                return false;
            }
        }

        return BernoulliExpMinusAtMostOne(new Rational(gamma.Numerator - (whole * gamma.Denominator), gamma.Denominator));
    }

    // For 0 ≤ γ ≤ 1: draw A_k ~ Bernoulli(γ/k) for k = 1, 2, … until one is false; the K where it stopped is odd with
    // probability Σ (−γ)^j / j! = exp(−γ) (the series, term by term, with no rounding anywhere).
    private bool BernoulliExpMinusAtMostOne(Rational gamma)
    {
        var k = BigInteger.One;
        while (Bernoulli(new Rational(gamma.Numerator, gamma.Denominator * k)))
        {
            k++;
        }

        return !k.IsEven;
    }

    /// <summary>True with probability exactly <paramref name="p"/> (0 ≤ p ≤ 1).</summary>
    internal bool Bernoulli(Rational p) => UniformBelow(p.Denominator) < p.Numerator;

    /// <summary>A uniform integer in [0, <paramref name="n"/>), by rejection of whole random bytes (no modulo bias).</summary>
    internal BigInteger UniformBelow(BigInteger n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, BigInteger.One);
        if (n.IsOne)
        {
            return BigInteger.Zero;
        }

        var bits = (int)(n - 1).GetBitLength();
        var bytes = (bits + 7) / 8;
        var topMask = (byte)(0xFF >> ((bytes * 8) - bits));
        Span<byte> buffer = bytes <= 64 ? stackalloc byte[bytes] : new byte[bytes];
        while (true)
        {
            _random.Fill(buffer);
            buffer[^1] &= topMask;
            var candidate = new BigInteger(buffer, isUnsigned: true, isBigEndian: false);
            if (candidate < n)
            {
                return candidate;
            }
        }
    }

    /// <summary>⌊√n⌋ for n ≥ 0, by Newton's method on integers.</summary>
    internal static BigInteger IntegerSqrt(BigInteger n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n < 2)
        {
            return n;
        }

        var x = BigInteger.One << (int)((n.GetBitLength() + 1) / 2);
        while (true)
        {
            var next = (x + (n / x)) / 2;
            if (next >= x)
            {
                return x;
            }

            x = next;
        }
    }
}
