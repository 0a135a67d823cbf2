using System.Text.Json;

namespace OpenSpe.Cli.Client;

/// <summary><c>GET /api/v1/permits/{id}</c> and the answer to create, amend, suspend, resume and revoke.</summary>
/// <remarks>
/// The one answer the CLI still declares itself: the server's carries the permit domain's document type, which is to move
/// to OpenSpe.Core (then this goes to OpenSpe.Contracts). The CLI prints the document as the server sent it.
/// </remarks>
internal sealed record PermitView(string Id, string ProjectId, string Reference, string Title, string State, int Version, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil,
    DateTimeOffset CreatedAt, string CreatedBy, JsonElement Document);
