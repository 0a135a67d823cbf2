using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace OpenSpe.Contracts;

/// <summary>
/// Asks to take files out of the project (<c>POST /api/v1/projects/{projectId}/exports</c>, EHDSR-12): names of files in the
/// workspace's <c>/outputs</c>, why, and optionally their output description (docs/disclosure.md's format).
/// </summary>
/// <param name="Files">File names in <c>/outputs</c> (1 to 50, each a plain name).</param>
/// <param name="Reason">The justification the output checkers read.</param>
/// <param name="Description">The output description: <c>{"outputs": [...]}</c>; without it every file needs a person's review.</param>
public sealed record ExportCreateRequest(
    [property: Required, MinLength(1), MaxLength(50)] IReadOnlyList<string> Files,
    [property: Required, StringLength(2000, MinimumLength = 1)] string Reason,
    JsonElement? Description = null);

/// <summary>
/// An output checker's decision (<c>POST .../exports/{requestId}/reviews</c> or <c>.../imports/{requestId}/reviews</c>): on one
/// file, or on every file still pending when <see cref="File"/> is left out.
/// </summary>
/// <param name="Decision"><c>approve</c>, <c>reject</c> or <c>changes</c> (send the request back to the requester).</param>
/// <param name="Comment">Why, for the requester and the audit trail.</param>
/// <param name="File">The file decided on; null for every pending file.</param>
/// <param name="Override">Required to approve a file whose automatic check failed: why it may leave anyway.</param>
public sealed record AirlockReviewRequest(
    [property: Required, RegularExpression("^(approve|reject|changes)$")] string Decision,
    [property: Required, StringLength(2000, MinimumLength = 1)] string Comment,
    [property: StringLength(255, MinimumLength = 1)] string? File = null,
    [property: StringLength(2000, MinimumLength = 1)] string? Override = null);

/// <summary>An export or import request as the API shows it (never the files' content).</summary>
/// <param name="Id">Request id.</param>
/// <param name="ProjectId">Its project.</param>
/// <param name="Direction"><c>export</c> or <c>import</c>.</param>
/// <param name="State">One of <see cref="AirlockStates"/>.</param>
/// <param name="RequestedBy">Who asked (user name).</param>
/// <param name="Reason">The justification.</param>
/// <param name="ReviewersRequired">Distinct approvals each file needs.</param>
/// <param name="CheckStatus">The automatic checks' overall outcome (<c>pass</c>, <c>review</c>, <c>fail</c>).</param>
/// <param name="Files">Each file with its hash, check outcome and decision.</param>
/// <param name="Reviews">Every decision taken, oldest first.</param>
/// <param name="CreatedAt">When it was submitted.</param>
/// <param name="DecidedAt">When the last file was decided, or the request sent back.</param>
public sealed record AirlockRequestView(
    string Id,
    string ProjectId,
    string Direction,
    string State,
    string RequestedBy,
    string Reason,
    int ReviewersRequired,
    string CheckStatus,
    IReadOnlyList<AirlockFileView> Files,
    IReadOnlyList<AirlockReviewView> Reviews,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DecidedAt);

/// <summary>A file of a request.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Size">Bytes frozen at submission.</param>
/// <param name="Sha256">SHA-256 of the bytes frozen at submission (lower-case hex).</param>
/// <param name="CheckStatus">The automatic checks' outcome: <c>pass</c>, <c>review</c> or <c>fail</c>.</param>
/// <param name="Findings">The checks' findings (rule, reason, positions; never values).</param>
/// <param name="State"><c>pending</c>, <c>approved</c> or <c>rejected</c>.</param>
/// <param name="Approvals">Distinct approvals so far.</param>
/// <param name="Placement">
/// An approved import file's placement in <c>/project/imports</c>: <c>placed</c>, or <c>failed</c> (nothing was placed; a member
/// may ask again once the cause is gone); null for exports and files not approved.
/// </param>
/// <param name="PlacementProblem">Why the last placement failed, in words, or null.</param>
public sealed record AirlockFileView(string Name, long Size, string Sha256, string CheckStatus, JsonElement Findings, string State, int Approvals,
    string? Placement = null, string? PlacementProblem = null);

/// <summary>One reviewer's decision on one file.</summary>
/// <param name="File">The file.</param>
/// <param name="Reviewer">The output checker (user name).</param>
/// <param name="Decision"><c>approve</c>, <c>reject</c> or <c>changes</c>.</param>
/// <param name="Comment">Why.</param>
/// <param name="Override">The override reason of an approval of a failed file, or null.</param>
/// <param name="CreatedAt">When.</param>
public sealed record AirlockReviewView(string File, string Reviewer, string Decision, string Comment, string? Override, DateTimeOffset CreatedAt);

/// <summary>The states of an airlock request and of its files.</summary>
public static class AirlockStates
{
    /// <summary>Waiting for output checkers (a request, or a file).</summary>
    public const string Pending = "pending";

    /// <summary>A checker sent the request back; the requester submits a new one.</summary>
    public const string ChangesRequested = "changes-requested";

    /// <summary>Every file is approved or rejected.</summary>
    public const string Decided = "decided";

    /// <summary>A file with enough approvals: in the outbox (export) or placed in /project/imports (import).</summary>
    public const string Approved = "approved";

    /// <summary>A file a checker rejected: it never leaves (or enters).</summary>
    public const string Rejected = "rejected";
}

/// <summary>Where an approved import file stands in <c>/project/imports</c>.</summary>
public static class AirlockPlacements
{
    /// <summary>Placed read-only at <c>/project/imports/&lt;request&gt;/&lt;name&gt;</c>, with the SHA-256 that was reviewed.</summary>
    public const string Placed = "placed";

    /// <summary>Approved but not placed: the frozen copy failed its hash check, or the project's files refused it.</summary>
    public const string Failed = "failed";
}

/// <summary>Names and headers of the airlock API.</summary>
public static class AirlockProtocol
{
    /// <summary>The header of a download with the SHA-256 (lower-case hex) of the bytes sent, frozen at submission.</summary>
    public const string Sha256Header = "Spe-Content-Sha256";
}

/// <summary>
/// The files a project's workspaces wrote to <c>/outputs</c> (<c>GET /api/v1/projects/{projectId}/outputs</c>), to pick for an
/// export request: only regular files whose names an export accepts; never their content.
/// </summary>
/// <param name="Files">Each file, sorted by name.</param>
/// <param name="Truncated">True when the listing stopped at <paramref name="Limit"/> files, the depth an export name may have, or the entries walked: more may exist.</param>
/// <param name="Limit">The most files one listing returns.</param>
public sealed record OutputListView(IReadOnlyList<OutputFileView> Files, bool Truncated, int Limit);

/// <summary>A file of <c>/outputs</c>.</summary>
/// <param name="Name">Its name relative to <c>/outputs</c>, <c>/</c>-separated: what an export request names.</param>
/// <param name="Size">Its size in bytes now.</param>
/// <param name="Modified">When it last changed, with its offset.</param>
public sealed record OutputFileView(string Name, long Size, DateTimeOffset Modified);
