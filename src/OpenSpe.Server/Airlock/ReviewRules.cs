namespace OpenSpe.Server.Airlock;

/// <summary>
/// How decisions release or stop a file (EHDSR-13), with no I/O: independence of the reviewer, one decision per checker and
/// file, an override for a failed check, <c>reviewersRequired</c> distinct approvals, any reject final, "changes" sends back.
/// </summary>
internal static class ReviewRules
{
    /// <summary>The decisions.</summary>
    public const string Approve = "approve";

    /// <summary>The decisions.</summary>
    public const string Reject = "reject";

    /// <summary>The decisions.</summary>
    public const string Changes = "changes";

    /// <summary>Why a decision cannot be taken, or null when it can.</summary>
    public static ReviewRefusal? Refuse(AirlockRequestEntity request, IReadOnlyList<AirlockFileEntity> files, IReadOnlyList<AirlockReviewEntity> reviews,
        string reviewerId, string decision, string? overrideReason)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(reviews);
        // Note: compared by account id, not by name: the requester can never be one of the independent approvals, even with a
        // second account name for the same person the admin would have to create (and the separation-of-duties table forbids).
        if (string.Equals(request.RequestedBy, reviewerId, StringComparison.Ordinal))
        {
            return new(ReviewRefusalKind.OwnRequest, "You asked for this request; another output checker must review it.");
        }

        if (request.State != AirlockStates.Pending)
        {
            return new(ReviewRefusalKind.NotPending, $"The request is {request.State}; nothing in it can be decided any more.");
        }

        if (files.Count == 0)
        {
            return new(ReviewRefusalKind.NotPending, "No file of the request is pending.");
        }

        foreach (var file in files)
        {
            if (file.State != AirlockStates.Pending)
            {
                return new(ReviewRefusalKind.NotPending, $"'{file.Name}' is {file.State} already.");
            }

            if (reviews.Any(r => r.FileName == file.Name && r.ReviewerId == reviewerId))
            {
                return new(ReviewRefusalKind.NotPending, $"You decided on '{file.Name}' already; another output checker must give the next decision.");
            }

            // Note: the automatic checks said this file must not leave as it is; a person may still release it (a false positive),
            // but only by saying why, in the audit trail, every approving checker for themselves.
            if (decision == Approve && file.CheckStatus == "fail" && string.IsNullOrWhiteSpace(overrideReason))
            {
                return new(ReviewRefusalKind.OverrideRequired, $"The automatic checks failed '{file.Name}': approving it needs an override reason.");
            }
        }

        return null;
    }

    /// <summary>Applies a decision already allowed by <see cref="Refuse"/>: file and request states after it.</summary>
    public static void Apply(AirlockRequestEntity request, IReadOnlyList<AirlockFileEntity> decided, IReadOnlyList<AirlockFileEntity> all,
        IReadOnlyList<AirlockReviewEntity> reviewsIncludingNew, string decision, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(decided);
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(reviewsIncludingNew);
        if (decision == Changes)
        {
            request.State = AirlockStates.ChangesRequested;
            request.DecidedAt = now;
            return;
        }

        foreach (var file in decided)
        {
            if (decision == Reject)
            {
                file.State = AirlockStates.Rejected;
            }
            else if (Approvals(reviewsIncludingNew, file.Name) >= request.ReviewersRequired)
            {
                file.State = AirlockStates.Approved;
            }
        }

        if (all.All(f => f.State != AirlockStates.Pending))
        {
            request.State = AirlockStates.Decided;
            request.DecidedAt = now;
        }
    }

    /// <summary>Distinct checkers who approved <paramref name="file"/>.</summary>
    public static int Approvals(IEnumerable<AirlockReviewEntity> reviews, string file) =>
        reviews.Where(r => r.FileName == file && r.Decision == Approve).Select(r => r.ReviewerId).Distinct(StringComparer.Ordinal).Count();
}

/// <summary>Why a decision was refused.</summary>
internal enum ReviewRefusalKind
{
    /// <summary>The reviewer asked for the request.</summary>
    OwnRequest,

    /// <summary>Not pending, or decided on by this reviewer already.</summary>
    NotPending,

    /// <summary>Approving a failed file without an override.</summary>
    OverrideRequired,
}

/// <summary>A refused decision.</summary>
internal sealed record ReviewRefusal(ReviewRefusalKind Kind, string Message);
