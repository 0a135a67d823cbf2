using System.Text.Json;

namespace OpenSpe.Disclosure.Descriptions;

/// <summary>
/// Reads the output description format (docs/disclosure.md): <c>{"outputs": [{"file": ..., "kind": ..., ...}]}</c>. Strict:
/// an unknown field, a field of another kind, a missing required field or a file described twice is refused.
/// </summary>
public static class OutputDescriptionParser
{
    private static readonly Dictionary<string, string[]> KindFields = new(StringComparer.Ordinal)
    {
        ["frequency"] = ["labelColumns", "countColumns"],
        ["magnitude"] = ["contributions", "cellColumns", "valueColumn"],
        ["regression"] = ["observations", "parameters"],
        ["survival"] = ["atRiskColumn"],
        ["records"] = ["quasiIdentifiers", "sensitive"],
        ["figure"] = ["basedOn"],
        ["text"] = [],
    };

    /// <summary>Parses a description document; throws <see cref="DescriptionException"/> naming the first problem.</summary>
    public static IReadOnlyList<OutputDescription> Parse(string json)
    {
        using var document = StrictJson.Parse(json, "The description");
        var root = document.RootElement;
        StrictJson.Object(root, "description");
        StrictJson.OnlyFields(root, "description", ["outputs"]);
        if (!root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
        {
            throw new DescriptionException("description.outputs is required and must be an array.");
        }

        var result = new List<OutputDescription>();

        // Note: a set, not a search of the list, because the list search made a description quadratic: 100,000 outputs
        // (3.7 MB) took 42 s, and a 1 MiB request body seconds of the server's time.
        var files = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in outputs.EnumerateArray())
        {
            var path = $"outputs[{index++}]";
            var output = ParseOne(item, path);
            if (!files.Add(output.File))
            {
                throw new DescriptionException($"{path}: '{output.File}' is described twice.");
            }

            result.Add(output);
        }

        return result;
    }

    private static OutputDescription ParseOne(JsonElement item, string path)
    {
        StrictJson.Object(item, path);
        var kind = StrictJson.String(item, path, "kind", required: true)!;
        if (!KindFields.TryGetValue(kind, out var fields))
        {
            throw new DescriptionException($"{path}.kind '{kind}' is not one of {string.Join(", ", KindFields.Keys)}.");
        }

        StrictJson.OnlyFields(item, path, ["file", "kind", .. fields], $" for kind '{kind}'");
        var file = FileName(item, path, "file");

        return kind switch
        {
            "frequency" => Frequency(item, path, file),
            "magnitude" => new MagnitudeDescription(
                file,
                FileName(item, path, "contributions"),
                NonEmpty(item, path, "cellColumns"),
                StrictJson.String(item, path, "valueColumn", required: true)!),
            "regression" => Regression(item, path, file),
            "survival" => new SurvivalDescription(file, StrictJson.String(item, path, "atRiskColumn", required: true)!),
            "records" => new RecordsDescription(file, NonEmpty(item, path, "quasiIdentifiers"), StrictJson.Strings(item, path, "sensitive", required: false) ?? []),
            "figure" => new FigureDescription(file, FileName(item, path, "basedOn")),
            _ => new TextDescription(file),
        };
    }

    private static FrequencyDescription Frequency(JsonElement item, string path, string file)
    {
        var labels = StrictJson.Strings(item, path, "labelColumns", required: false) ?? [];
        var counts = StrictJson.Strings(item, path, "countColumns", required: false);
        if (counts is { Count: 0 })
        {
            throw new DescriptionException($"{path}.countColumns must name at least one column (leave it out to count every column not in labelColumns).");
        }

        if (counts?.Intersect(labels, StringComparer.Ordinal).FirstOrDefault() is { } both)
        {
            throw new DescriptionException($"{path}: column '{both}' is both a label and a count column.");
        }

        return new FrequencyDescription(file, labels, counts);
    }

    private static RegressionDescription Regression(JsonElement item, string path, string file)
    {
        var observations = StrictJson.Integer(item, path, "observations", required: true)!.Value;
        var parameters = StrictJson.Integer(item, path, "parameters", required: true)!.Value;
        if (observations < 1 || parameters < 1)
        {
            throw new DescriptionException($"{path}: observations and parameters must be at least 1.");
        }

        return new RegressionDescription(file, observations, parameters);
    }

    private static IReadOnlyList<string> NonEmpty(JsonElement item, string path, string name)
    {
        var list = StrictJson.Strings(item, path, name, required: true)!;
        return list.Count > 0 ? list : throw new DescriptionException($"{path}.{name} must name at least one column.");
    }

    private static string FileName(JsonElement item, string path, string name)
    {
        var value = StrictJson.String(item, path, name, required: true)!;
        return value.Contains('/', StringComparison.Ordinal) || value.Contains('\\', StringComparison.Ordinal) || value is "." or ".."
            ? throw new DescriptionException($"{path}.{name} must be a file name without a directory.")
            : value;
    }
}
