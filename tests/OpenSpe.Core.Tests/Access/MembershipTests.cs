using OpenSpe.Core.Access;

namespace OpenSpe.Core.Tests.Access;

/// <summary>The one membership rule (FCR-7, SDR-1, SDR-2), against cases written by hand.</summary>
public sealed class MembershipTests
{
    [Theory]
    [InlineData("researcher", "researcher", "researcher")]
    [InlineData("researcher,data-holder", "researcher", "researcher")]
    [InlineData("researcher,data-holder", "researcher,data-holder", "researcher,data-holder")]
    [InlineData("researcher", "data-holder", "")]
    [InlineData("researcher", "", "")]
    [InlineData("application", "application", "")]
    [InlineData("application,researcher", "application,researcher", "researcher")]
    [Trait("Requirement", "FCR-7")]
    public void A_persons_role_counts_when_held_in_the_permit_and_the_account_and_never_as_application(string named, string accountRoles, string expected)
    {
        var person = AccessPrincipal.Person("id-1", true, Split(accountRoles));

        Assert.Equal(Split(expected).Order(StringComparer.Ordinal), Membership.Effective(person, Split(named)).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("application", "application")]
    [InlineData("application,researcher,data-holder", "application")]
    [InlineData("researcher", "")]
    [InlineData("", "")]
    [Trait("Requirement", "FCR-7")]
    public void An_applications_only_role_is_application(string named, string expected)
    {
        Assert.Equal(Split(expected), Membership.Effective(AccessPrincipal.Application("app-1"), Split(named)));
    }

    [Theory]
    [InlineData("hdab", true)]
    [InlineData("operator", true)]
    [InlineData("auditor", true)]
    [InlineData("admin", false)]
    [InlineData("output-checker", false)]
    [InlineData("researcher", false)]
    [InlineData("data-holder", false)]
    [InlineData("", false)]
    [Trait("Requirement", "SDR-2")]
    public void The_oversight_roles_are_hdab_operator_and_auditor(string role, bool oversight)
    {
        Assert.Equal(oversight, Membership.IsOversight(AccessPrincipal.Person("id-1", true, Split(role))));
    }

    [Fact]
    public void An_application_never_oversees()
    {
        Assert.False(Membership.IsOversight(AccessPrincipal.Application("hdab")));
    }

    [Theory]
    [InlineData("hdab", "", true)]
    [InlineData("auditor", "researcher", true)]
    [InlineData("researcher", "researcher", true)]
    [InlineData("researcher", "data-holder", false)]
    [InlineData("researcher", "", false)]
    [InlineData("admin", "", false)]
    public void A_person_sees_a_permit_by_oversight_or_by_a_role_that_counts(string accountRoles, string named, bool sees)
    {
        Assert.Equal(sees, Membership.Sees(AccessPrincipal.Person("id-1", true, Split(accountRoles)), Split(named)));
    }

    [Fact]
    public void Principals_keep_what_they_were_built_with()
    {
        var person = AccessPrincipal.Person("id-1", true, ["researcher", "researcher"]);
        var application = AccessPrincipal.Application("app-1");

        Assert.Equal(("id-1", (string?)null, false, true), (person.AccountId, person.ClientId, person.IsApplication, person.HasSecondFactor));
        Assert.Equal(["researcher"], person.Roles);
        Assert.Equal(((string?)null, "app-1", true, false), (application.AccountId, application.ClientId, application.IsApplication, application.HasSecondFactor));
        Assert.Empty(application.Roles);
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        // The parameter's own name, so a guard removed (and a null failing later, inside LINQ) is noticed.
        Assert.Equal("roles", Assert.Throws<ArgumentNullException>(() => AccessPrincipal.Person("x", true, null!)).ParamName);
        Assert.Equal("principal", Assert.Throws<ArgumentNullException>(() => Membership.Effective(null!, [])).ParamName);
        Assert.Equal("namedRoles", Assert.Throws<ArgumentNullException>(() => Membership.Effective(AccessPrincipal.Application("a"), null!)).ParamName);
        Assert.Equal("namedRoles", Assert.Throws<ArgumentNullException>(() => Membership.Effective(AccessPrincipal.Person("x", true, []), null!)).ParamName);
        Assert.Equal("principal", Assert.Throws<ArgumentNullException>(() => Membership.IsOversight(null!)).ParamName);
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
