using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Federation.Analyses;

/// <summary>The JSON settings of every analysis message: camelCase, unknown members refused (a typo is an error, not a default).</summary>
internal static class AnalysisJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>Reads <typeparamref name="T"/>, or null with <paramref name="error"/> when the JSON does not fit it.</summary>
    public static T? TryRead<T>(string json, out string error)
        where T : class
    {
        error = string.Empty;
        try
        {
            var value = JsonSerializer.Deserialize<T>(json, Options);
            if (value is null)
            {
                error = "the parameters are null";
            }

            return value;
        }
        catch (JsonException e)
        {
            // Note: only the path and position are echoed, because the message of a nested exception can quote input.
            error = $"the parameters are not valid JSON for this analysis (at {e.Path ?? "$"})";
            return null;
        }
    }

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);
}
