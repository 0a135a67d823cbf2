using System.Text.Json;
using OpenSpe.Federation.Analyses;
using OpenSpe.Federation.Glm;
using OpenSpe.Federation.Omop;
using OpenSpe.Federation.Rows;

namespace OpenSpe.Server.Federation;

/// <summary>
/// Reads a federated component's answer line (at most the node's bound, read by <see cref="ComponentSession"/>), per component
/// kind: one JSON line holding exactly one of <c>{"aggregate": {...}}</c> (of the component's declared shape, re-serialized from the
/// parsed value so nothing undeclared travels; counts checked against the threshold again) or
/// <c>{"refused": {"code": "SPE7052", "reasons": [...]}}</c>. Anything else is refused.
/// </summary>
internal static class ComponentOutput
{
    private const int MaxReasons = 32;
    private const int MaxReasonLength = 500;

    /// <summary>
    /// Parses <paramref name="output"/> as <paramref name="component"/>'s answer under <paramref name="policy"/>: true with the
    /// aggregate; false with the component's own refusal, or with <paramref name="problem"/> when the answer is refused.
    /// </summary>
    public static bool Read(string component, ReadOnlySpan<byte> output, OpenSpe.Disclosure.DisclosurePolicy policy,
        out JsonElement? aggregate, out RunnerRefusal? refusal, out string problem)
    {
        ArgumentNullException.ThrowIfNull(policy);
        aggregate = null;
        refusal = null;
        problem = "";
        var text = output;
        if (text.Length > 0 && text[^1] == (byte)'\n')
        {
            text = text[..^1];
        }

        if (text.Length == 0 || text.Contains((byte)'\n'))
        {
            problem = text.Length == 0 ? "no answer" : "more than one line";
            return false;
        }

        RunnerOutcome? outcome;
        try
        {
            outcome = JsonSerializer.Deserialize<RunnerOutcome>(text, RunnerProtocol.Json);
        }
        catch (JsonException)
        {
            problem = "not JSON of the outcome's shape";
            return false;
        }

        if (outcome is null || outcome.Opened is not null || outcome.Units is not null || (outcome.Aggregate is null) == (outcome.Refused is null))
        {
            problem = "not exactly one of an aggregate or a refusal";
            return false;
        }

        if (outcome.Refused is { } refused)
        {
            if (!IsRefusal(refused))
            {
                problem = "a refusal without a code and short reasons";
                return false;
            }

            refusal = refused;
            return false;
        }

        var released = component switch
        {
            GlmNodeAnalysis.ComponentName => Glm(outcome.Aggregate!.Value, out problem),
            CohortCountNodeAnalysis.ComponentName => Counts(outcome.Aggregate!.Value, policy, out problem),
            RowCountNodeAnalysis.ComponentName => Rows(outcome.Aggregate!.Value, policy, out problem),
            _ => Unknown(out problem),
        };
        aggregate = released;
        return released is not null;
    }

    private static JsonElement? Glm(JsonElement value, out string problem)
    {
        var contribution = Parse<GlmContribution>(value, out problem);
        if (contribution is null)
        {
            return null;
        }

        var p = contribution.Columns.Count;
        if (p is 0 or > 1000 || contribution.Score.Count != p || contribution.Information.Count != p || contribution.Information.Any(r => r.Count != p)
            || !contribution.Score.All(double.IsFinite) || !contribution.Information.All(r => r.All(double.IsFinite))
            || !double.IsFinite(contribution.Deviance) || !double.IsFinite(contribution.PearsonChiSquare) || contribution.NValid < 0 || contribution.NMissing < 0)
        {
            problem = "a GLM contribution whose sizes or numbers do not fit its columns";
            return null;
        }

        return JsonSerializer.SerializeToElement(contribution, RunnerProtocol.Json);
    }

    private static JsonElement? Counts(JsonElement value, OpenSpe.Disclosure.DisclosurePolicy policy, out string problem)
    {
        var counts = Parse<CohortCountAggregate>(value, out problem);
        if (counts is null)
        {
            return null;
        }

        // Note: the threshold is checked again here, outside the sandbox, so a count below it cannot leave even if the component
        // forgot or was changed to forget it.
        if (counts.Threshold != policy.Threshold || counts.Cells.Any(c => c is null
            || (c.Suppressed ? c.Count is not null : c.Count is not { } n || n < 0 || (n < policy.Threshold && !(n == 0 && policy.ZerosAllowed)))))
        {
            problem = "a cohort count that releases a count below the node's threshold or suppresses inconsistently";
            return null;
        }

        return JsonSerializer.SerializeToElement(counts, RunnerProtocol.Json);
    }

    private static JsonElement? Rows(JsonElement value, OpenSpe.Disclosure.DisclosurePolicy policy, out string problem)
    {
        var count = Parse<RowCountAggregate>(value, out problem);
        if (count is null)
        {
            return null;
        }

        // Note: as for the cohort counts, checked again outside the sandbox: a count from 1 to below the threshold never leaves,
        // whatever the runner answered; zero is released, as it discloses nobody.
        if (count.Threshold != policy.Threshold || (count.Suppressed ? count.Rows is not null : count.Rows is not { } n || n < 0 || (n > 0 && n < policy.Threshold)))
        {
            problem = "a row count that releases a count below the node's threshold or suppresses inconsistently";
            return null;
        }

        return JsonSerializer.SerializeToElement(count, RunnerProtocol.Json);
    }

    private static JsonElement? Unknown(out string problem)
    {
        problem = "a component without a declared aggregate";
        return null;
    }

    private static T? Parse<T>(JsonElement value, out string problem)
        where T : class
    {
        problem = "";
        try
        {
            var parsed = value.Deserialize<T>(RunnerProtocol.Json);
            if (parsed is null)
            {
                problem = "an empty aggregate";
            }

            return parsed;
        }
        catch (JsonException)
        {
            problem = "an aggregate not of the component's declared shape";
            return null;
        }
    }

    /// <summary>Parses one line of a session (<see cref="ComponentSession"/>): exactly one member set; a refusal well formed. Null when not.</summary>
    public static RunnerOutcome? ReadSessionLine(ReadOnlySpan<byte> line)
    {
        RunnerOutcome? outcome;
        try
        {
            outcome = JsonSerializer.Deserialize<RunnerOutcome>(line, RunnerProtocol.Json);
        }
        catch (JsonException)
        {
            return null;
        }

        var set = outcome is null ? 0 : new object?[] { outcome.Aggregate, outcome.Refused, outcome.Opened, outcome.Units }.Count(m => m is not null);
        return set == 1 && (outcome!.Refused is null || IsRefusal(outcome.Refused)) ? outcome : null;
    }

    private static bool IsRefusal(RunnerRefusal refused) =>
        IsCode(refused.Code) && refused.Reasons is { Count: > 0 and <= MaxReasons } && refused.Reasons.All(r => r is not null && r.Length <= MaxReasonLength);

    private static bool IsCode(string code) => code is { Length: 7 } && code.StartsWith("SPE", StringComparison.Ordinal) && code[3..].All(char.IsAsciiDigit);
}
