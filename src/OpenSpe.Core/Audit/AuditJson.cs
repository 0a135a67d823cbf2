using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Core.Audit;

/// <summary>Serializer settings for audit records and checkpoints outside the HTTP pipeline (export, witness files, the CLI).</summary>
public static class AuditJson
{
    /// <summary>Camel-case, compact.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };
}
