using OpenSpe.Core.Permits;

namespace OpenSpe.Server.Permits;

/// <summary>A permit with its current document.</summary>
public sealed record PermitView(string Id, string ProjectId, string Reference, string Title, string State, int Version, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil,
    DateTimeOffset CreatedAt, string CreatedBy, PermitDocument Document);

/// <summary>A permit in a listing.</summary>
public sealed record PermitSummary(string Id, string ProjectId, string Reference, string Title, string State, int Version, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil)
{
    /// <summary>Builds the summary.</summary>
    public static PermitSummary From(PermitEntity p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(p.Id, p.ProjectId, p.Reference, p.Title, p.State, p.CurrentVersion, p.ValidFrom, p.ValidUntil);
    }
}

/// <summary>One version in a permit's history.</summary>
public sealed record PermitVersionView(int Version, DateTimeOffset CreatedAt, string CreatedBy, string Summary);

/// <summary>A GA4GH visa for one data user and dataset.</summary>
public sealed record PermitVisaView(string User, string Dataset, string Visa);

/// <summary>A reason for a state change: required to suspend or revoke, optional to resume (see docs/permit-format.md).</summary>
public sealed record PermitReasonRequest(
    [property: System.ComponentModel.DataAnnotations.StringLength(500)] string? Reason = null);

/// <summary>A project in a listing, with the caller's roles in it and whether it is halted.</summary>
public sealed record ProjectSummary(string Id, string PermitId, string Reference, string Title, string State, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil, IReadOnlyList<string> MyRoles, bool Halted);

/// <summary>A project member.</summary>
public sealed record ProjectMemberView(string? Username, string? Issuer, string? Subject, string? Name, string Role);

/// <summary>A dataset of the project's permit.</summary>
public sealed record ProjectDatasetView(string Id, string Title, string Holder, string? Description);

/// <summary>A project's metadata.</summary>
public sealed record ProjectView(string Id, string PermitId, string Reference, string Title, string State, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil,
    IReadOnlyList<ProjectMemberView> Members, IReadOnlyList<ProjectDatasetView> Datasets, bool Halted);

/// <summary>Starts a halt: a project, or everything when <see cref="ProjectId"/> is null.</summary>
public sealed record HaltRequest(
    [property: System.ComponentModel.DataAnnotations.StringLength(64)] string? ProjectId,
    [property: System.ComponentModel.DataAnnotations.Required, System.ComponentModel.DataAnnotations.StringLength(500, MinimumLength = 3)] string Reason);

/// <summary>Lifts the halts of a project, or of everything when <see cref="ProjectId"/> is null.</summary>
public sealed record ResumeRequest(
    [property: System.ComponentModel.DataAnnotations.StringLength(64)] string? ProjectId);

/// <summary>A halt.</summary>
public sealed record HaltView(string Id, string Scope, string? ProjectId, string Reason, string HaltedBy, DateTimeOffset HaltedAt);

/// <summary>The halts lifted.</summary>
public sealed record ResumeView(IReadOnlyList<string> Resumed);
