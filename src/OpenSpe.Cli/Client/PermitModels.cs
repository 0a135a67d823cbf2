using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSpe.Cli.Client;

/// <summary><c>GET /api/v1/permits/{id}</c> and the answer to create, amend, suspend, resume and revoke.</summary>
internal sealed record PermitView(
    [property: JsonConverter(typeof(LenientStringConverter))] string Id,
    [property: JsonConverter(typeof(LenientStringConverter))] string? ProjectId,
    string? Reference,
    string? Title,
    string? State,
    int? Version,
    DateTimeOffset? ValidFrom,
    DateTimeOffset? ValidUntil,
    DateTimeOffset? CreatedAt,
    string? CreatedBy,
    JsonElement Document);

/// <summary>One row of <c>GET /api/v1/permits</c>.</summary>
internal sealed record PermitSummary(
    [property: JsonConverter(typeof(LenientStringConverter))] string Id,
    [property: JsonConverter(typeof(LenientStringConverter))] string? ProjectId,
    string? Reference,
    string? Title,
    string? State,
    int? Version,
    DateTimeOffset? ValidFrom,
    DateTimeOffset? ValidUntil);

/// <summary>One row of <c>GET /api/v1/permits/{id}/versions</c>.</summary>
internal sealed record PermitVersionView(int Version, DateTimeOffset? CreatedAt, string? CreatedBy, string? Summary);

/// <summary>One row of <c>GET /api/v1/permits/{id}/visas</c>: a GA4GH Passport visa (a JWT) for one data user and dataset.</summary>
internal sealed record PermitVisaView(string? User, string? Dataset, string Visa);

/// <summary>One row of <c>GET /api/v1/projects</c>.</summary>
internal sealed record ProjectSummary(
    [property: JsonConverter(typeof(LenientStringConverter))] string Id,
    [property: JsonConverter(typeof(LenientStringConverter))] string? PermitId,
    string? Reference,
    string? Title,
    string? State,
    DateTimeOffset? ValidFrom,
    DateTimeOffset? ValidUntil,
    IReadOnlyList<string>? MyRoles,
    bool? Halted = null);

/// <summary><c>GET /api/v1/projects/{id}</c>.</summary>
internal sealed record ProjectView(
    [property: JsonConverter(typeof(LenientStringConverter))] string Id,
    [property: JsonConverter(typeof(LenientStringConverter))] string? PermitId,
    string? Reference,
    string? Title,
    string? State,
    DateTimeOffset? ValidFrom,
    DateTimeOffset? ValidUntil,
    IReadOnlyList<ProjectMemberView>? Members,
    IReadOnlyList<ProjectDatasetView>? Datasets,
    bool Halted);

/// <summary>A project member: a local account (<c>username</c>) or an external identity (<c>issuer</c> and <c>subject</c>).</summary>
internal sealed record ProjectMemberView(string? Username, string? Issuer, string? Subject, string? Name, string? Role);

internal sealed record ProjectDatasetView(string? Id, string? Title, string? Holder);

/// <summary><c>POST /api/v1/halts</c> answer and one row of <c>GET /api/v1/halts</c>.</summary>
internal sealed record HaltView(
    [property: JsonConverter(typeof(LenientStringConverter))] string Id,
    string? Scope,
    [property: JsonConverter(typeof(LenientStringConverter))] string? ProjectId,
    string? Reason,
    string? HaltedBy,
    DateTimeOffset? HaltedAt);

/// <summary><c>POST /api/v1/halts/resume</c> answer: the halts lifted.</summary>
internal sealed record ResumeResultView([property: JsonConverter(typeof(LenientStringListConverter))] IReadOnlyList<string>? Resumed);

/// <summary>Body of suspend, resume and revoke.</summary>
internal sealed record PermitReasonRequest(string? Reason);

internal sealed record HaltRequest(string? ProjectId, string Reason);

internal sealed record HaltResumeRequest(string? ProjectId);

/// <summary>A list of ids the server may send as strings or numbers.</summary>
internal sealed class LenientStringListConverter : JsonConverter<IReadOnlyList<string>?>
{
    private static readonly LenientStringConverter Item = new();

    public override bool HandleNull => true;

    public override IReadOnlyList<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"expected an array, got {reader.TokenType}");
        }

        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            items.Add(Item.Read(ref reader, typeof(string), options) ?? "");
        }

        return items;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string>? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }

        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}
