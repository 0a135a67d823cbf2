using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>A permit in a listing.</summary>
public sealed record PermitSummary(string Id, string ProjectId, string Reference, string Title, string State, int Version, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil);

/// <summary>One version in a permit's history.</summary>
public sealed record PermitVersionView(int Version, DateTimeOffset CreatedAt, string CreatedBy, string Summary);

/// <summary>A GA4GH visa for one data user and dataset.</summary>
public sealed record PermitVisaView(string User, string Dataset, string Visa);

/// <summary>A reason for a state change: required to suspend or revoke, optional to resume (see docs/permit-format.md).</summary>
public sealed record PermitReasonRequest([property: StringLength(500)] string? Reason = null);

/// <summary>A project in a listing, with the caller's roles in it and whether it is halted.</summary>
public sealed record ProjectSummary(string Id, string PermitId, string Reference, string Title, string State, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil, IReadOnlyList<string> MyRoles, bool Halted);

/// <summary>A project member: a local account (<see cref="Username"/>) or an external identity (<see cref="Issuer"/> and <see cref="Subject"/>).</summary>
public sealed record ProjectMemberView(string? Username, string? Issuer, string? Subject, string? Name, string Role);

/// <summary>A dataset of the project's permit.</summary>
public sealed record ProjectDatasetView(string Id, string Title, string Holder, string? Description);

/// <summary>A project's metadata.</summary>
public sealed record ProjectView(string Id, string PermitId, string Reference, string Title, string State, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil,
    IReadOnlyList<ProjectMemberView> Members, IReadOnlyList<ProjectDatasetView> Datasets, bool Halted);

/// <summary>Starts a halt: a project, or everything when <see cref="ProjectId"/> is null.</summary>
public sealed record HaltRequest(
    [property: StringLength(64)] string? ProjectId,
    [property: Required, StringLength(500, MinimumLength = 3)] string Reason);

/// <summary>Lifts the halts of a project, or of everything when <see cref="ProjectId"/> is null.</summary>
public sealed record ResumeRequest([property: StringLength(64)] string? ProjectId);

/// <summary>A halt.</summary>
public sealed record HaltView(string Id, string Scope, string? ProjectId, string Reason, string HaltedBy, DateTimeOffset HaltedAt);

/// <summary>The halts lifted.</summary>
public sealed record ResumeView(IReadOnlyList<string> Resumed);
