using OpenSpe.Core.Identity;

namespace OpenSpe.Core.Tests.Identity;

/// <summary>
/// The separation-of-duties table as pure logic, against a table written here by hand from
/// docs/separation-of-duties.md (never read from the code's own list). The integration suite
/// checks the same table through the admin API; this one is fast enough for mutation testing.
/// </summary>
public sealed class SeparationOfDutiesTableTests
{
    private const string ServiceReason = " runs the service and never touches projects or their data (SDR-2)";
    private const string AuditorReason = "an auditor checks everyone else and holds no other role";

    // Hand-written, in the order the table lists them: the pairs one person may never hold together, with the reason.
    private static readonly (string First, string Second, string Reason)[] Expected =
    [
        ("admin", "hdab", "admin" + ServiceReason),
        ("admin", "researcher", "admin" + ServiceReason),
        ("admin", "data-holder", "admin" + ServiceReason),
        ("admin", "output-checker", "admin" + ServiceReason),
        ("operator", "hdab", "operator" + ServiceReason),
        ("operator", "researcher", "operator" + ServiceReason),
        ("operator", "data-holder", "operator" + ServiceReason),
        ("operator", "output-checker", "operator" + ServiceReason),
        ("auditor", "hdab", AuditorReason),
        ("auditor", "output-checker", AuditorReason),
        ("auditor", "data-holder", AuditorReason),
        ("auditor", "researcher", AuditorReason),
        ("auditor", "operator", AuditorReason),
        ("auditor", "admin", AuditorReason),
        ("hdab", "researcher", "an HDAB officer issues permits and is never a data user"),
        ("hdab", "data-holder", "an HDAB officer issues permits and is never a data holder"),
    ];

    private static readonly string[] Roles = ["hdab", "output-checker", "data-holder", "researcher", "operator", "auditor", "admin"];

    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var a in Roles)
        {
            foreach (var b in Roles)
            {
                data.Add(a, b);
            }
        }

        return data;
    }

    private static (string First, string Second, string Reason)? ExpectedBetween(string a, string b) =>
        Expected.Where(e => (e.First == a && e.Second == b) || (e.First == b && e.Second == a))
            .Select(e => ((string, string, string)?)e).FirstOrDefault();

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public void The_conflict_list_is_exactly_the_documented_table()
    {
        Assert.Equal(Expected, SeparationOfDuties.Conflicts.Select(c => (c.First, c.Second, c.Reason)).ToArray());
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    [Trait("Requirement", "SDR-2")]
    public void Between_finds_a_conflict_in_either_order_and_only_for_forbidden_pairs(string a, string b)
    {
        var expected = ExpectedBetween(a, b);

        var conflict = SeparationOfDuties.Between(a, b);

        if (expected is { } e)
        {
            Assert.NotNull(conflict);
            Assert.Equal((e.First, e.Second, e.Reason), (conflict.First, conflict.Second, conflict.Reason));
        }
        else
        {
            Assert.Null(conflict);
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    [Trait("Requirement", "SDR-2")]
    public void Within_two_roles_agrees_with_the_pair_table(string a, string b)
    {
        var expected = ExpectedBetween(a, b);

        var conflict = SeparationOfDuties.Within([a, b]);

        Assert.Equal(expected?.Reason, conflict?.Reason);
    }

    [Fact]
    public void Within_no_role_or_one_role_finds_nothing()
    {
        Assert.Null(SeparationOfDuties.Within([]));
        foreach (var role in Roles)
        {
            Assert.Null(SeparationOfDuties.Within([role]));
            Assert.Null(SeparationOfDuties.Within([role, role]));
        }
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public void Within_allowed_combinations_of_three_or_more_roles_finds_nothing()
    {
        Assert.Null(SeparationOfDuties.Within(["researcher", "data-holder", "output-checker"]));
        Assert.Null(SeparationOfDuties.Within(["output-checker", "hdab", "hdab"]));
        Assert.Null(SeparationOfDuties.Within(["admin", "operator", "admin"]));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public void Within_finds_a_conflict_between_roles_that_are_not_neighbours()
    {
        var conflict = SeparationOfDuties.Within(["hdab", "output-checker", "output-checker", "data-holder"]);

        Assert.NotNull(conflict);
        Assert.Equal(("hdab", "data-holder"), (conflict.First, conflict.Second));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public void Within_returns_the_first_conflict_in_the_order_the_roles_are_given()
    {
        var conflict = SeparationOfDuties.Within(["researcher", "output-checker", "hdab", "admin"]);

        Assert.NotNull(conflict);
        Assert.Equal(("hdab", "researcher"), (conflict.First, conflict.Second));
    }

    [Fact]
    public void Within_refuses_null()
    {
        Assert.Throws<ArgumentNullException>(() => SeparationOfDuties.Within(null!));
    }

    [Fact]
    [Trait("Requirement", "SDR-2")]
    public void Project_roles_are_the_four_that_touch_projects()
    {
        Assert.Equal(["data-holder", "hdab", "output-checker", "researcher"], SeparationOfDuties.ProjectRoles.Order(StringComparer.Ordinal));
    }

    [Fact]
    [Trait("Requirement", "OPR-2")]
    public void Every_role_but_researcher_and_data_holder_needs_a_second_admin()
    {
        Assert.Equal(["admin", "auditor", "hdab", "operator", "output-checker"], SeparationOfDuties.NeedsApproval.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_conflict_describes_itself_in_one_sentence()
    {
        var conflict = new RoleConflict("hdab", "researcher", "a reason");

        Assert.Equal("'hdab' and 'researcher' cannot be held by one person: a reason.", conflict.Describe());
    }
}
