using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Tests.Permits;

/// <summary>The permit state machine against a table written by hand from docs/permit-format.md (states and transitions).</summary>
public sealed class PermitLifecycleTests
{
    private static readonly DateTimeOffset T = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromDays(30);

    private static readonly string[] States = ["active", "suspended", "expired", "revoked", "terminated", "erased"];

    // Every (state, change) pair the machine allows; every other pair is refused.
    private static readonly HashSet<(string, PermitChange)> Allowed =
    [
        ("active", PermitChange.Suspend),
        ("suspended", PermitChange.Resume),
        ("active", PermitChange.Revoke),
        ("suspended", PermitChange.Revoke),
        ("active", PermitChange.Expire),
        ("suspended", PermitChange.Expire),
        ("revoked", PermitChange.Terminate),
        ("expired", PermitChange.Terminate),
        ("terminated", PermitChange.Erase),
    ];

    [Fact]
    [Trait("Requirement", "OPR-5")]
    public void Each_state_allows_exactly_the_changes_of_the_table()
    {
        var wrong = new List<string>();
        foreach (var state in States)
        {
            foreach (var change in Enum.GetValues<PermitChange>())
            {
                if (PermitLifecycle.Allows(state, change) != Allowed.Contains((state, change)))
                {
                    wrong.Add($"{state} {change}");
                }
            }
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public void An_unknown_state_or_change_allows_nothing()
    {
        Assert.All(Enum.GetValues<PermitChange>(), change => Assert.False(PermitLifecycle.Allows("paused", change)));
        Assert.False(PermitLifecycle.Allows("active", (PermitChange)99));
        Assert.Throws<ArgumentOutOfRangeException>(() => PermitLifecycle.TargetOf((PermitChange)99));
    }

    [Theory]
    [InlineData(PermitChange.Suspend, "suspended")]
    [InlineData(PermitChange.Resume, "active")]
    [InlineData(PermitChange.Revoke, "revoked")]
    [InlineData(PermitChange.Expire, "expired")]
    [InlineData(PermitChange.Terminate, "terminated")]
    [InlineData(PermitChange.Erase, "erased")]
    public void Each_change_leads_to_its_state(PermitChange change, string target)
    {
        Assert.Equal(target, PermitLifecycle.TargetOf(change));
    }

    [Theory]
    [InlineData("active", true)]
    [InlineData("suspended", true)]
    [InlineData("expired", false)]
    [InlineData("revoked", false)]
    [InlineData("terminated", false)]
    [InlineData("erased", false)]
    [Trait("Requirement", "EHDSR-3")]
    public void Only_a_live_permit_is_amended(string state, bool live)
    {
        Assert.Equal(live, PermitLifecycle.CanAmend(state));
        Assert.Equal(live, PermitLifecycle.IsLive(state));
    }

    [Theory]
    [InlineData("active", -1, false)]
    [InlineData("active", 0, true)]
    [InlineData("active", 1, true)]
    [InlineData("suspended", 0, true)]
    [InlineData("revoked", 1, false)]
    [InlineData("terminated", 1, false)]
    [Trait("Requirement", "OPR-5")]
    public void Expiry_is_due_for_a_live_permit_from_its_valid_until(string state, long ticksAfter, bool due)
    {
        Assert.Equal(due, PermitLifecycle.IsExpiryDue(state, T, T.AddTicks(ticksAfter)));
    }

    [Theory]
    [InlineData("terminated", -1, false)]
    [InlineData("terminated", 0, true)]
    [InlineData("terminated", 1, true)]
    [InlineData("expired", 1, false)]
    [InlineData("erased", 1, false)]
    [InlineData("active", 1, false)]
    [Trait("Requirement", "EHDSR-8")]
    public void Erasure_is_due_once_the_grace_period_after_termination_is_over(string state, long ticksAfter, bool due)
    {
        Assert.Equal(due, PermitLifecycle.IsErasureDue(state, T, Grace, T + Grace + TimeSpan.FromTicks(ticksAfter)));
    }

    [Fact]
    public void Without_a_termination_time_no_erasure_is_due()
    {
        Assert.False(PermitLifecycle.IsErasureDue("terminated", null, Grace, T.AddYears(10)));
        Assert.Null(PermitLifecycle.DueAt("terminated", T, null, Grace));
    }

    [Theory]
    [InlineData("active", "validUntil")]
    [InlineData("suspended", "validUntil")]
    [InlineData("terminated", "erasure")]
    [InlineData("expired", null)]
    [InlineData("revoked", null)]
    [InlineData("erased", null)]
    public void The_next_due_time_is_the_expiry_or_the_erasure(string state, string? due)
    {
        var validUntil = T.AddDays(5);
        var terminatedAt = T.AddDays(1);

        var expected = due switch
        {
            "validUntil" => validUntil,
            "erasure" => terminatedAt + Grace,
            _ => (DateTimeOffset?)null,
        };

        Assert.Equal(expected, PermitLifecycle.DueAt(state, validUntil, terminatedAt, Grace));
    }

    [Theory]
    [InlineData("active", 0, null)]
    [InlineData("active", -1, "permit-not-yet-valid")]
    [InlineData("active", 10, "permit-expired")]
    [InlineData("active", 9, null)]
    [InlineData("suspended", 0, "permit-suspended")]
    [InlineData("terminated", 0, "permit-terminated")]
    [InlineData("expired", 0, "permit-expired")]
    [InlineData("erased", -1, "permit-erased")]
    public void A_permit_is_in_force_when_active_and_inside_its_period(string state, int days, string? reason)
    {
        Assert.Equal(reason, PermitLifecycle.NotInForceReason(state, T, T.AddDays(10), T.AddDays(days)));
    }
}
