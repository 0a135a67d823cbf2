using System.Numerics;
using OpenSpe.Federation.Learning;

namespace OpenSpe.Federation.Tests.Learning;

/// <summary>
/// The exact discrete Gaussian sampler: its Bernoulli steps on known random paths, and its moments, symmetry and mass
/// function over many draws, each checked against a bound computed from the number of draws (five standard errors), so a
/// correct sampler fails with probability below one in a million per check and a wrong one by far more.
/// </summary>
public sealed class DiscreteGaussianTests
{
    private const double Sigmas = 5;

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public void Bernoulli_of_a_rational_is_exact_over_every_random_value()
    {
        // Bernoulli(3/7) draws a 3-bit value and rejects 7: each accepted value 0..6 once, 3 of them below 3.
        var hits = 0;
        for (byte b = 0; b < 7; b++)
        {
            hits += new DiscreteGaussian(new ScriptedRandomSource(b)).Bernoulli(new Rational(3, 7)) ? 1 : 0;
        }

        Assert.Equal(3, hits);
        var rejectedFirst = new ScriptedRandomSource(7, 2);
        Assert.True(new DiscreteGaussian(rejectedFirst).Bernoulli(new Rational(3, 7)));
        Assert.Equal(2, rejectedFirst.Used);
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public void Bernoulli_exp_minus_follows_the_series_on_known_paths()
    {
        // γ = 1/2: A₁ ~ Bernoulli(1/2) false at once → K = 1 (odd) → true.
        Assert.True(new DiscreteGaussian(new ScriptedRandomSource(1)).BernoulliExpMinus(new Rational(1, 2)));
        // A₁ true (0 < 1 of 2), A₂ ~ Bernoulli(1/4) false (3 ≥ 1 of 4) → K = 2 (even) → false.
        Assert.False(new DiscreteGaussian(new ScriptedRandomSource(0, 3)).BernoulliExpMinus(new Rational(1, 2)));
        // A₁ true, A₂ true (0 < 1 of 4), A₃ ~ Bernoulli(1/6) false (5 ≥ 1 of 6) → K = 3 → true.
        Assert.True(new DiscreteGaussian(new ScriptedRandomSource(0, 0, 5)).BernoulliExpMinus(new Rational(1, 2)));
        // γ = 0 is certain: A₁ ~ Bernoulli(0) is always false.
        Assert.True(new DiscreteGaussian(new ScriptedRandomSource(0)).BernoulliExpMinus(Rational.Zero));
        // γ = 5/2: two exp(−1) factors then exp(−1/2); the first factor failing (A₁ ~ Bernoulli(1) true, A₂ ~ Bernoulli(1/2) false) ends it.
        Assert.False(new DiscreteGaussian(new ScriptedRandomSource(1)).BernoulliExpMinus(new Rational(5, 2)));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(9, 2)]
    [Trait("Requirement", "FCR-9")]
    public void Bernoulli_exp_minus_has_probability_exp_minus_gamma(int numerator, int denominator)
    {
        var sampler = new DiscreteGaussian(new SeededRandomSource(numerator * 31 + denominator));
        const int n = 40_000;
        var p = Math.Exp(-(double)numerator / denominator);
        var hits = Enumerable.Range(0, n).Count(_ => sampler.BernoulliExpMinus(new Rational(numerator, denominator)));

        AssertWithin(p, hits / (double)n, Math.Sqrt(p * (1 - p) / n), "P(true)");
    }

    [Theory]
    [InlineData("1/2")]
    [InlineData("4")]
    [InlineData("49/4")]
    [InlineData("1000.5")]
    [Trait("Requirement", "FCR-9")]
    public void Draws_have_the_mean_variance_and_symmetry_of_the_discrete_gaussian(string varianceText)
    {
        var variance = Rational.TryParse(varianceText)!.Value;
        var sampler = new DiscreteGaussian(new SeededRandomSource(varianceText.GetHashCode(StringComparison.Ordinal)));
        const int n = 20_000;
        var draws = new BigInteger[n];
        sampler.Sample(variance, draws);
        var values = draws.Select(d => (double)d).ToArray();
        var (m2, m4) = Moments(variance.ToDouble());

        AssertWithin(0, values.Average(), Math.Sqrt(m2 / n), "mean");
        AssertWithin(m2, values.Average(v => v * v), Math.Sqrt(((m4 - (m2 * m2)) / n)), "second moment");
        // Symmetry: among non-zero draws the positive ones are Binomial(k, 1/2).
        var nonZero = values.Count(v => v != 0);
        AssertWithin(0.5, values.Count(v => v > 0) / (double)nonZero, Math.Sqrt(0.25 / nonZero), "share positive");
    }

    [Fact]
    [Trait("Requirement", "FCR-9")]
    public void Each_small_value_comes_with_its_exact_probability()
    {
        var variance = new Rational(3, 2);
        var sampler = new DiscreteGaussian(new SeededRandomSource(7));
        const int n = 30_000;
        var counts = new Dictionary<BigInteger, int>();
        for (var i = 0; i < n; i++)
        {
            var x = sampler.Sample(variance);
            counts[x] = counts.GetValueOrDefault(x) + 1;
        }

        var normaliser = Enumerable.Range(-60, 121).Sum(x => Math.Exp(-(x * x) / 3.0));
        for (var x = -3; x <= 3; x++)
        {
            var p = Math.Exp(-(x * x) / 3.0) / normaliser;
            AssertWithin(p, counts.GetValueOrDefault(x) / (double)n, Math.Sqrt(p * (1 - p) / n), $"P({x})");
        }
    }

    [Fact]
    public void Discrete_laplace_has_its_variance()
    {
        // DLap with scale t: P(x) ∝ exp(−|x|/t); variance 2e^{−1/t}/(1 − e^{−1/t})².
        var sampler = new DiscreteGaussian(new SeededRandomSource(11));
        const int n = 20_000;
        var values = Enumerable.Range(0, n).Select(_ => (double)sampler.SampleDiscreteLaplace(1, 3)).ToArray();
        var q = Math.Exp(-1 / 3.0);
        var variance = 2 * q / ((1 - q) * (1 - q));
        // Fourth moment of the two-sided geometric: E[X⁴] = 2q(1 + 11q + 11q² + q³)/(1 − q)⁵ ... bounded here by 10·var² for a loose standard error.
        AssertWithin(variance, values.Average(v => v * v), Math.Sqrt(10 * variance * variance / n), "variance");
        AssertWithin(0, values.Average(), Math.Sqrt(variance / n), "mean");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0/5")]
    [InlineData("18446744073709551617")]
    [Trait("Requirement", "FCR-9")]
    public void An_invalid_variance_is_refused(string varianceText)
    {
        var variance = Rational.TryParse(varianceText)!.Value;

        Assert.NotNull(DiscreteGaussian.CheckVariance(variance));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscreteGaussian(new SeededRandomSource(1)).Sample(variance));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("NaN")]
    [InlineData("1/0")]
    [InlineData("")]
    public void Variance_text_that_is_not_an_exact_non_negative_rational_does_not_parse(string text) => Assert.Null(Rational.TryParse(text));

    [Fact]
    public void Integer_square_root_is_exact()
    {
        foreach (var n in new BigInteger[] { 0, 1, 2, 3, 4, 15, 16, 17, 99, 100, BigInteger.Pow(10, 30) - 1, BigInteger.Pow(10, 30) })
        {
            var r = DiscreteGaussian.IntegerSqrt(n);
            Assert.True(r * r <= n && (r + 1) * (r + 1) > n, $"√{n} → {r}");
        }
    }

    // E[X²] and E[X⁴] of N_Z(0, σ²), by summing the mass function far into the tails.
    private static (double M2, double M4) Moments(double variance)
    {
        var reach = (int)Math.Ceiling(40 * Math.Sqrt(variance)) + 10;
        double z = 0, m2 = 0, m4 = 0;
        for (var x = -reach; x <= reach; x++)
        {
            var w = Math.Exp(-((double)x * x) / (2 * variance));
            z += w;
            m2 += w * x * x;
            m4 += w * x * x * (double)x * x;
        }

        return (m2 / z, m4 / z);
    }

    private static void AssertWithin(double expected, double actual, double standardError, string what) =>
        Assert.True(Math.Abs(actual - expected) <= Sigmas * standardError, $"{what}: {actual} vs {expected} (bound {Sigmas * standardError})");
}
