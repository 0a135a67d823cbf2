using OpenSpe.Server.Airlock;

namespace OpenSpe.Server.Tests.Airlock;

/// <summary>The release rules alone (EHDSR-13): independence, one decision per checker, overrides, the approval count.</summary>
public sealed class ReviewRulesTests
{
    private static AirlockRequestEntity Request(int required = 2) => new() { Id = "exp-1", RequestedBy = "requester", ReviewersRequired = required };

    private static AirlockFileEntity File(string check = "pass", string name = "t.csv") => new() { RequestId = "exp-1", Name = name, CheckStatus = check };

    private static AirlockReviewEntity Review(string reviewer, string decision = ReviewRules.Approve, string file = "t.csv") =>
        new() { RequestId = "exp-1", FileName = file, ReviewerId = reviewer, Decision = decision };

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public void The_requester_never_reviews_their_own_request()
    {
        Assert.Equal(ReviewRefusalKind.OwnRequest, ReviewRules.Refuse(Request(), [File()], [], "requester", ReviewRules.Approve, null)?.Kind);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public void One_checker_decides_once_per_file()
    {
        Assert.Equal(ReviewRefusalKind.NotPending, ReviewRules.Refuse(Request(), [File()], [Review("c1")], "c1", ReviewRules.Approve, null)?.Kind);
        Assert.Null(ReviewRules.Refuse(Request(), [File()], [Review("c1")], "c2", ReviewRules.Approve, null));
    }

    [Theory]
    [InlineData("fail", null, "OverrideRequired")]
    [InlineData("fail", " ", "OverrideRequired")]
    [InlineData("fail", "structural zero", null)]
    [InlineData("review", null, null)]
    [InlineData("pass", null, null)]
    [Trait("Requirement", "FCR-6")]
    public void Approving_a_failed_file_needs_an_override(string check, string? overrideReason, string? expected)
    {
        Assert.Equal(expected, ReviewRules.Refuse(Request(), [File(check)], [], "c1", ReviewRules.Approve, overrideReason)?.Kind.ToString());
        // Rejecting a failed file needs none.
        Assert.Null(ReviewRules.Refuse(Request(), [File(check)], [], "c1", ReviewRules.Reject, null));
    }

    [Theory]
    [InlineData(1, 1, AirlockStates.Approved)]
    [InlineData(2, 1, AirlockStates.Pending)]
    [InlineData(2, 2, AirlockStates.Approved)]
    [InlineData(3, 2, AirlockStates.Pending)]
    [Trait("Requirement", "EHDSR-13")]
    public void A_file_is_released_at_exactly_the_required_distinct_approvals(int required, int approvals, string expected)
    {
        var request = Request(required);
        var file = File();
        var reviews = Enumerable.Range(0, approvals).Select(i => Review("c" + i)).Append(Review("c0")).ToList();

        ReviewRules.Apply(request, [file], [file], reviews, ReviewRules.Approve, DateTimeOffset.UnixEpoch);

        Assert.Equal(expected, file.State);
        Assert.Equal(expected == AirlockStates.Approved ? AirlockStates.Decided : AirlockStates.Pending, request.State);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-13")]
    public void Any_reject_rejects_and_changes_send_the_whole_request_back()
    {
        var request = Request();
        var a = File(name: "a.csv");
        var b = File(name: "b.csv");
        ReviewRules.Apply(request, [a], [a, b], [Review("c1", ReviewRules.Reject, "a.csv")], ReviewRules.Reject, DateTimeOffset.UnixEpoch);
        Assert.Equal((AirlockStates.Rejected, AirlockStates.Pending), (a.State, request.State));

        ReviewRules.Apply(request, [b], [a, b], [], ReviewRules.Changes, DateTimeOffset.UnixEpoch);

        Assert.Equal((AirlockStates.Pending, AirlockStates.ChangesRequested), (b.State, request.State));
        Assert.Equal(ReviewRefusalKind.NotPending, ReviewRules.Refuse(request, [b], [], "c2", ReviewRules.Approve, null)?.Kind);
    }
}
