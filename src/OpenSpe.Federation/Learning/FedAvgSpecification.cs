using System.Numerics;
using System.Text.Json.Serialization;
using OpenSpe.Federation.Analyses;

namespace OpenSpe.Federation.Learning;

/// <summary>
/// A federated averaging run of logistic regression: the model, the local training each node does per round, how its
/// update is clipped and turned into integers, and the discrete Gaussian noise each node adds.
/// </summary>
public sealed record FedAvgSpecification
{
    /// <summary>The most rounds a run may ask for.</summary>
    public const int MaxRounds = 10_000;

    /// <summary>The largest clip bound in units (2^40).</summary>
    public const long MaxClipUnits = 1L << 40;

    /// <summary>R-style formula with a 0/1 response (<c>DIS_DIAB ~ GENDER + PM_BMI_CONTINUOUS</c>), as the federated GLM reads it.</summary>
    public required string Formula { get; init; }

    /// <summary>The dataset's CSV file; null when the dataset holds one.</summary>
    public string? Table { get; init; }

    /// <summary>Factor levels fixed for every node (as in the GLM).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Levels { get; init; }

    /// <summary>
    /// Public centring and scaling per model column (<c>{"PM_BMI_CONTINUOUS": [27, 5]}</c>: x ↦ (x − 27) / 5), chosen by the
    /// requester, not computed from the data; the result is given back on the original scale. They only make gradient
    /// steps converge in fewer rounds.
    /// </summary>
    public IReadOnlyDictionary<string, double[]>? Scaling { get; init; }

    /// <summary>Rounds of federated averaging (1–10,000).</summary>
    public int Rounds { get; init; } = 20;

    /// <summary>Full-batch gradient steps each node takes on its own rows per round, from the global parameters (1–100).</summary>
    public int LocalEpochs { get; init; } = 1;

    /// <summary>Step size of the local gradient steps on the mean log-loss (above 0, at most 100).</summary>
    public double LearningRate { get; init; } = 0.5;

    /// <summary>Value of one integer unit of an update (above 0): the update is divided by it and truncated toward zero.</summary>
    public double Granularity { get; init; } = 1e-4;

    /// <summary>
    /// K: the L2 bound of a node's integer update, in units (1 to 2^40); C = K × <see cref="Granularity"/> on the
    /// parameters' scale. Any two updates differ by at most 2K, the sensitivity the noise is calibrated to.
    /// </summary>
    public long ClipUnits { get; init; } = 10_000;

    /// <summary>σ² of the discrete Gaussian noise per coordinate, in units², exact (<c>"12.5"</c> or <c>"25/2"</c>); null for none.</summary>
    public string? NoiseVariance { get; init; }

    /// <summary>Δ² = (2K)²: the squared L2 sensitivity of one node's integer update.</summary>
    [JsonIgnore]
    public Rational SensitivitySquared => Rational.FromInteger(BigInteger.Pow(2 * new BigInteger(ClipUnits), 2));

    /// <summary>The exact noise variance, or null when no noise is asked for or the text is not an exact rational.</summary>
    [JsonIgnore]
    public Rational? Variance => NoiseVariance is null ? null : Rational.TryParse(NoiseVariance);

    /// <summary>ρ that one round costs each node's data: Δ²/(2σ²); zero without noise (which a node refuses unless its settings allow it).</summary>
    [JsonIgnore]
    public Rational RhoPerRound => Variance is { IsZero: false } v ? Zcdp.RhoOfRelease(SensitivitySquared, v) : Rational.Zero;

    /// <summary>Reads a specification from its JSON (camelCase, unknown members refused), or null with <paramref name="error"/>.</summary>
    public static FedAvgSpecification? FromJson(string json, out string error) => AnalysisJson.TryRead<FedAvgSpecification>(json, out error);

    /// <summary>The specification as the JSON <see cref="FromJson"/> reads.</summary>
    public string ToJson() => AnalysisJson.Write(this);

    /// <summary>The problems with the values, empty when they are all in range.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Formula))
        {
            errors.Add("formula is required");
        }

        if (Rounds is < 1 or > MaxRounds)
        {
            errors.Add($"rounds must be between 1 and {MaxRounds}");
        }

        if (LocalEpochs is < 1 or > 100)
        {
            errors.Add("localEpochs must be between 1 and 100");
        }

        if (!double.IsFinite(LearningRate) || LearningRate <= 0 || LearningRate > 100)
        {
            errors.Add("learningRate must be above 0 and at most 100");
        }

        if (!double.IsFinite(Granularity) || Granularity <= 0 || Granularity > 1e6)
        {
            errors.Add("granularity must be above 0 and at most 1e6");
        }

        if (ClipUnits is < 1 or > MaxClipUnits)
        {
            errors.Add("clipUnits must be between 1 and 2^40");
        }

        if (NoiseVariance is not null && (Variance is not { } v || DiscreteGaussian.CheckVariance(v) is not null))
        {
            errors.Add("noiseVariance must be an exact decimal or fraction above 0 and at most 2^64");
        }

        foreach (var (column, pair) in Scaling ?? new Dictionary<string, double[]>())
        {
            if (pair is not { Length: 2 } || !double.IsFinite(pair[0]) || !double.IsFinite(pair[1]) || pair[1] <= 0)
            {
                errors.Add($"scaling of '{column}' must be [center, scale] with a finite center and a scale above 0");
            }
        }

        return errors;
    }
}
