namespace OpenSpe.Federation.Glm;

/// <summary>
/// A GLM family with its canonical link as R's <c>stats</c> defines it: the inverse link, its derivative, the variance
/// function and the unit deviance. The guards against 0 and 1 are R's (<c>binomial()</c>'s C code, <c>poisson()$linkinv</c>).
/// </summary>
internal abstract class GlmFamily
{
    /// <summary>R's <c>.Machine$double.eps</c>.</summary>
    protected const double Epsilon = 2.220446049250313e-16;

    /// <summary>The family's name as R spells it.</summary>
    public abstract string Name { get; }

    /// <summary>Whether the dispersion is estimated (gaussian) rather than fixed at 1; t tests instead of z tests.</summary>
    public virtual bool EstimatesDispersion => false;

    /// <summary>μ from the linear predictor η.</summary>
    public abstract double InverseLink(double eta);

    /// <summary>dμ/dη at η.</summary>
    public abstract double MuEta(double eta);

    /// <summary>V(μ).</summary>
    public abstract double Variance(double mu);

    /// <summary>The unit deviance of <paramref name="y"/> at <paramref name="mu"/>.</summary>
    public abstract double UnitDeviance(double y, double mu);

    /// <summary>Why <paramref name="y"/> is not a response this family accepts, or null.</summary>
    public abstract string? InvalidResponse(double y);

    /// <summary>The family named <paramref name="name"/> (gaussian, binomial, poisson), or null.</summary>
    public static GlmFamily? Parse(string? name) => name switch
    {
        "gaussian" => Gaussian.Instance,
        "binomial" => Binomial.Instance,
        "poisson" => Poisson.Instance,
        _ => null,
    };

    /// <summary>y·log(y/μ), taken as 0 at y = 0 (R's <c>y_log_y</c>).</summary>
    protected static double YLogY(double y, double mu) => y != 0 ? y * Math.Log(y / mu) : 0;

    private sealed class Gaussian : GlmFamily
    {
        public static readonly Gaussian Instance = new();

        public override string Name => "gaussian";

        public override bool EstimatesDispersion => true;

        public override double InverseLink(double eta) => eta;

        public override double MuEta(double eta) => 1;

        public override double Variance(double mu) => 1;

        public override double UnitDeviance(double y, double mu) => (y - mu) * (y - mu);

        public override string? InvalidResponse(double y) => null;
    }

    private sealed class Binomial : GlmFamily
    {
        public static readonly Binomial Instance = new();
        private const double Threshold = 30;

        public override string Name => "binomial";

        public override double InverseLink(double eta) =>
            eta < -Threshold ? Epsilon : eta > Threshold ? 1 - Epsilon : 1 / (1 + Math.Exp(-eta));

        public override double MuEta(double eta)
        {
            if (Math.Abs(eta) > Threshold)
            {
                return Epsilon;
            }

            var e = Math.Exp(eta);
            return Math.Max(e / ((1 + e) * (1 + e)), Epsilon);
        }

        public override double Variance(double mu) => mu * (1 - mu);

        public override double UnitDeviance(double y, double mu) => 2 * (YLogY(y, mu) + YLogY(1 - y, 1 - mu));

        public override string? InvalidResponse(double y) => y is >= 0 and <= 1 ? null : "a binomial response must be between 0 and 1";
    }

    private sealed class Poisson : GlmFamily
    {
        public static readonly Poisson Instance = new();

        public override string Name => "poisson";

        public override double InverseLink(double eta) => Math.Max(Math.Exp(eta), Epsilon);

        public override double MuEta(double eta) => Math.Max(Math.Exp(eta), Epsilon);

        public override double Variance(double mu) => mu;

        public override double UnitDeviance(double y, double mu) => 2 * (YLogY(y, mu) - (y - mu));

        public override string? InvalidResponse(double y) => y >= 0 ? null : "a poisson response must not be negative";
    }
}
