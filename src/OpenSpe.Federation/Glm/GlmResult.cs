using System.Text;
using System.Text.Json;

namespace OpenSpe.Federation.Glm;

/// <summary>One coefficient of a fitted GLM.</summary>
/// <param name="Term">The coefficient's name as R prints it.</param>
/// <param name="Estimate">The estimate.</param>
/// <param name="StandardError">Its standard error (dispersion-scaled for gaussian).</param>
/// <param name="Z">Estimate / SE: a z value, or a t value for gaussian as R's summary (the JSON key is <c>z</c> either way).</param>
/// <param name="P">The two-sided p-value (normal, or t with the residual df for gaussian).</param>
public sealed record GlmCoefficient(string Term, double Estimate, double StandardError, double Z, double P);

/// <summary>A node's part in a fitted GLM.</summary>
/// <param name="Name">The node's name.</param>
/// <param name="NValid">Its complete rows.</param>
/// <param name="NMissing">Its rows with a missing value.</param>
public sealed record GlmNodeSummary(string Name, int NValid, int NMissing);

/// <summary>
/// The result of an exact federated GLM: what R's <c>summary(glm(...))</c> reports on the pooled rows. <see cref="ToJson"/>
/// writes the <c>spe federation glm --json</c> shape.
/// </summary>
public sealed record GlmResult
{
    /// <summary>The formula fitted.</summary>
    public required string Formula { get; init; }

    /// <summary>The family (gaussian, binomial, poisson).</summary>
    public required string Family { get; init; }

    /// <summary>The coefficients in R's order.</summary>
    public required IReadOnlyList<GlmCoefficient> Coefficients { get; init; }

    /// <summary>The residual deviance.</summary>
    public required double Deviance { get; init; }

    /// <summary>The residual degrees of freedom (Nvalid − parameters).</summary>
    public required int Df { get; init; }

    /// <summary>The dispersion used for the SEs: Pearson χ² / df for gaussian, 1 otherwise.</summary>
    public required double Dispersion { get; init; }

    /// <summary>Complete rows over all nodes.</summary>
    public required int NValid { get; init; }

    /// <summary>Rows with a missing value over all nodes.</summary>
    public required int NMissing { get; init; }

    /// <summary>Rounds of node calls made.</summary>
    public required int Iterations { get; init; }

    /// <summary>Whether the deviance converged within the iteration limit.</summary>
    public required bool Converged { get; init; }

    /// <summary>Each node's counts.</summary>
    public required IReadOnlyList<GlmNodeSummary> Nodes { get; init; }

    /// <summary>
    /// The JSON of <c>spe federation glm --json</c>: <c>{"coefficients": {"term": {"estimate", "se", "z", "p"}}, "deviance",
    /// "df", "nValid", "nMissing", "iterations", "nodes": [...]}</c> plus <c>family</c>, <c>formula</c>,
    /// <c>dispersion</c> and <c>converged</c>. Coefficients keep R's order; a value that is not finite is written as null.
    /// </summary>
    public string ToJson(bool indented = false)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("coefficients");
            foreach (var c in Coefficients)
            {
                writer.WriteStartObject(c.Term);
                Number(writer, "estimate", c.Estimate);
                Number(writer, "se", c.StandardError);
                Number(writer, "z", c.Z);
                Number(writer, "p", c.P);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            Number(writer, "deviance", Deviance);
            writer.WriteNumber("df", Df);
            writer.WriteNumber("nValid", NValid);
            writer.WriteNumber("nMissing", NMissing);
            writer.WriteNumber("iterations", Iterations);
            writer.WriteBoolean("converged", Converged);
            writer.WriteString("family", Family);
            writer.WriteString("formula", Formula);
            Number(writer, "dispersion", Dispersion);
            writer.WriteStartArray("nodes");
            foreach (var node in Nodes)
            {
                writer.WriteStartObject();
                writer.WriteString("name", node.Name);
                writer.WriteString("status", "ok");
                writer.WriteNumber("nValid", node.NValid);
                writer.WriteNumber("nMissing", node.NMissing);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Number(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
