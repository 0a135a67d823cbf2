namespace OpenSpe.Server.Airlock;

/// <summary>Row of <c>airlock_requests</c>: an export or import request of a project (EHDSR-12, EHDSR-13, SPER-3).</summary>
internal sealed class AirlockRequestEntity
{
    /// <summary>Request id (<c>exp-…</c> or <c>imp-…</c>).</summary>
    public string Id { get; set; } = "";

    /// <summary>The project.</summary>
    public string ProjectId { get; set; } = "";

    /// <summary><c>export</c> or <c>import</c>.</summary>
    public string Direction { get; set; } = "";

    /// <summary>Account id of the requester (never a reviewer of it).</summary>
    public string RequestedBy { get; set; } = "";

    /// <summary>User name of the requester.</summary>
    public string RequestedByName { get; set; } = "";

    /// <summary>The justification.</summary>
    public string Reason { get; set; } = "";

    /// <summary>The output description as submitted, or null.</summary>
    public string? DescriptionJson { get; set; }

    /// <summary>Distinct approvals each file needs (the permit's, at submission).</summary>
    public int ReviewersRequired { get; set; }

    /// <summary>State (<see cref="AirlockStates"/>).</summary>
    public string State { get; set; } = AirlockStates.Pending;

    /// <summary>When it was submitted.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it was decided or sent back.</summary>
    public DateTimeOffset? DecidedAt { get; set; }
}

/// <summary>Row of <c>airlock_files</c>: one frozen file of a request (its bytes are in the object store, encrypted).</summary>
internal sealed class AirlockFileEntity
{
    /// <summary>The request.</summary>
    public string RequestId { get; set; } = "";

    /// <summary>The file's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Its position in the request (names the object: names need not be object-key safe).</summary>
    public int Position { get; set; }

    /// <summary>Plaintext bytes frozen.</summary>
    public long Size { get; set; }

    /// <summary>SHA-256 of the plaintext frozen at submission.</summary>
    public string Sha256 { get; set; } = "";

    /// <summary>The Crypt4GH object in the store.</summary>
    public string ObjectKey { get; set; } = "";

    /// <summary>The automatic checks' outcome: pass, review, fail.</summary>
    public string CheckStatus { get; set; } = "";

    /// <summary>The checks' findings as JSON (rule, reason, positions; never values).</summary>
    public string FindingsJson { get; set; } = "[]";

    /// <summary>pending, approved or rejected.</summary>
    public string State { get; set; } = AirlockStates.Pending;

    /// <summary>
    /// An approved import file's placement in <c>/project/imports</c> (<see cref="AirlockPlacements"/>); null for exports and
    /// files not approved.
    /// </summary>
    public string? Placement { get; set; }

    /// <summary>Why the last placement failed, in words (never content), or null.</summary>
    public string? PlacementProblem { get; set; }
}

/// <summary>Row of <c>airlock_reviews</c>: one output checker's decision on one file.</summary>
internal sealed class AirlockReviewEntity
{
    /// <summary>Review id.</summary>
    public string Id { get; set; } = "";

    /// <summary>The request.</summary>
    public string RequestId { get; set; } = "";

    /// <summary>The file.</summary>
    public string FileName { get; set; } = "";

    /// <summary>Account id of the checker.</summary>
    public string ReviewerId { get; set; } = "";

    /// <summary>User name of the checker.</summary>
    public string ReviewerName { get; set; } = "";

    /// <summary>approve, reject or changes.</summary>
    public string Decision { get; set; } = "";

    /// <summary>Why.</summary>
    public string Comment { get; set; } = "";

    /// <summary>The override reason for approving a failed file.</summary>
    public string? Override { get; set; }

    /// <summary>When.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
