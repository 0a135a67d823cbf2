using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Cli.Output;

/// <summary>The <c>--json</c> rendering: indented, camel-case.</summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void Write<T>(TextWriter output, T value) => output.WriteLine(JsonSerializer.Serialize(value, Options));
}
