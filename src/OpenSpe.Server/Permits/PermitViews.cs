using OpenSpe.Core.Permits;

namespace OpenSpe.Server.Permits;

/// <summary>A permit with its current document.</summary>
/// <remarks>Not in OpenSpe.Contracts yet: its document is the permit domain's type, which is to move to OpenSpe.Core.</remarks>
internal sealed record PermitView(string Id, string ProjectId, string Reference, string Title, string State, int Version, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil,
    DateTimeOffset CreatedAt, string CreatedBy, PermitDocument Document);

/// <summary>The contracts' views of stored permits.</summary>
internal static class PermitViewMapping
{
    /// <summary>A permit as a listing shows it.</summary>
    public static PermitSummary ToSummary(this PermitEntity permit)
    {
        ArgumentNullException.ThrowIfNull(permit);
        return new(permit.Id, permit.ProjectId, permit.Reference, permit.Title, permit.State, permit.CurrentVersion, permit.ValidFrom, permit.ValidUntil);
    }
}
