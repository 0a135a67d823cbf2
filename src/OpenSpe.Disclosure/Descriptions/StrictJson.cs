using System.Text.Json;

namespace OpenSpe.Disclosure.Descriptions;

/// <summary>
/// Reading of the strict JSON documents (descriptions and policies): unknown fields and wrong types are refused with a
/// message that names the field, because a misspelt field silently ignored would check something else than meant.
/// </summary>
internal static class StrictJson
{
    private static readonly JsonDocumentOptions Options = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 };

    public static JsonDocument Parse(string json, string what)
    {
        try
        {
            return JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            throw new DescriptionException($"{what} is not valid JSON: {e.Message}", e);
        }
    }

    public static void Object(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new DescriptionException($"{path} must be a JSON object.");
        }
    }

    public static void OnlyFields(JsonElement element, string path, IReadOnlyCollection<string> allowed, string? context = null)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name))
            {
                throw new DescriptionException($"{path}: unknown field '{property.Name}'{context} (allowed: {string.Join(", ", allowed)}).");
            }
        }
    }

    public static string? String(JsonElement element, string path, string name, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new DescriptionException($"{path}.{name} is required.") : null;
        }

        if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
        {
            throw new DescriptionException($"{path}.{name} must be a non-empty string.");
        }

        return value.GetString();
    }

    public static IReadOnlyList<string>? Strings(JsonElement element, string path, string name, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new DescriptionException($"{path}.{name} is required.") : null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new DescriptionException($"{path}.{name} must be an array of column names.");
        }

        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString()!.Length == 0)
            {
                throw new DescriptionException($"{path}.{name} must hold only non-empty strings.");
            }

            list.Add(item.GetString()!);
        }

        if (list.Distinct(StringComparer.Ordinal).Count() != list.Count)
        {
            throw new DescriptionException($"{path}.{name} names a column twice.");
        }

        return list;
    }

    public static long? Integer(JsonElement element, string path, string name, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new DescriptionException($"{path}.{name} is required.") : null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n)
            ? n
            : throw new DescriptionException($"{path}.{name} must be a whole number.");
    }

    public static double? Number(JsonElement element, string path, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw new DescriptionException($"{path}.{name} must be a number.");
    }

    public static bool? Boolean(JsonElement element, string path, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : throw new DescriptionException($"{path}.{name} must be true or false.");
    }
}
