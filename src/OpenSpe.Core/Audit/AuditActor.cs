namespace OpenSpe.Core.Audit;

/// <summary>Who did an audited action (EHDSR-7). Every field is optional except that an anonymous caller still has a source address.</summary>
/// <param name="SubjectId">Stable subject identifier of the account or client.</param>
/// <param name="Username">Human-readable account name.</param>
/// <param name="Roles">Roles held when the action was taken.</param>
/// <param name="ClientId">OAuth client the token was issued to.</param>
/// <param name="SourceIp">Remote address of the connection.</param>
/// <param name="UserAgent">User-Agent header, truncated.</param>
public sealed record AuditActor(
    string? SubjectId,
    string? Username,
    IReadOnlyList<string> Roles,
    string? ClientId,
    string? SourceIp,
    string? UserAgent)
{
    /// <summary>The server itself, for records it writes on its own behalf (start, checkpoints, purge).</summary>
    public static AuditActor System { get; } = new("system", "system", [], null, null, null);
}

/// <summary>What an audited action was about.</summary>
/// <param name="Type">Kind of resource, e.g. <c>permit</c>, <c>audit-log</c>.</param>
/// <param name="Id">Identifier of the resource.</param>
/// <param name="ProjectId">Project the resource belongs to, when there is one.</param>
public sealed record AuditResource(string? Type, string? Id, string? ProjectId)
{
    /// <summary>No particular resource.</summary>
    public static AuditResource None { get; } = new(null, null, null);
}
