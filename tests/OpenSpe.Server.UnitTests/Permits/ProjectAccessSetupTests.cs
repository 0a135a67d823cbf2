using System.Security.Claims;
using OpenSpe.Contracts;
using OpenSpe.Core.Access;
using OpenSpe.Server.Api;
using OpenSpe.Server.Permits;

namespace OpenSpe.Server.UnitTests.Permits;

/// <summary>How the HTTP face maps a bearer token's claims into the access chain's principal, and a refusal to its error code.</summary>
public sealed class ProjectAccessSetupTests
{
    private static ClaimsPrincipal Token(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "Bearer", "preferred_username", "role"));

    [Fact]
    [Trait("Requirement", "SDR-1")]
    public void A_person_is_known_by_sub_and_never_by_preferred_username()
    {
        var principal = ProjectAccessSetup.PrincipalOf(Token(("sub", "id-holder2"), ("preferred_username", "holder"), ("role", "data-holder"), ("amr", "pwd"), ("amr", "otp"),
            ("client_id", "spe-cli")));

        Assert.Equal("id-holder2", principal.AccountId);
        Assert.False(principal.IsApplication);
        Assert.Null(principal.ClientId);
        Assert.True(principal.HasSecondFactor);
        Assert.Equal(["data-holder"], principal.Roles);
    }

    [Fact]
    public void A_person_with_a_password_alone_has_no_second_factor_and_keeps_every_role()
    {
        var principal = ProjectAccessSetup.PrincipalOf(Token(("sub", "id-1"), ("role", "researcher"), ("role", "data-holder"), ("amr", "pwd")));

        Assert.False(principal.HasSecondFactor);
        Assert.Equal(["data-holder", "researcher"], principal.Roles.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_person_token_without_sub_names_no_account()
    {
        Assert.Null(ProjectAccessSetup.PrincipalOf(Token(("preferred_username", "holder"), ("amr", "otp"))).AccountId);
    }

    [Fact]
    [Trait("Requirement", "FCR-7")]
    public void A_client_credentials_token_is_an_application_by_client_id_with_no_roles()
    {
        var principal = ProjectAccessSetup.PrincipalOf(Token(("sub", "app:analysis"), ("client_id", "analysis"), ("role", "hdab")));

        Assert.True(principal.IsApplication);
        Assert.Equal("analysis", principal.ClientId);
        Assert.Null(principal.AccountId);
        Assert.Empty(principal.Roles);
        Assert.False(principal.HasSecondFactor);
    }

    [Fact]
    public void Each_refusal_kind_has_its_stable_code()
    {
        Assert.Equal(ErrorCodes.Forbidden, ProjectAccessSetup.CodeOf(AccessRefusal.Forbidden("r", "m")));
        Assert.Equal(ErrorCodes.NotFound, ProjectAccessSetup.CodeOf(new AccessRefusal(AccessRefusalKind.Hidden, "r", "m")));
        Assert.Equal(ErrorCodes.ProjectHalted, ProjectAccessSetup.CodeOf(new AccessRefusal(AccessRefusalKind.Halted, "r", "m")));
        Assert.Equal(ErrorCodes.PermitNotActive, ProjectAccessSetup.CodeOf(new AccessRefusal(AccessRefusalKind.PermitNotInForce, "r", "m")));
        Assert.Equal(ErrorCodes.HaltStateUnknown, ProjectAccessSetup.CodeOf(new AccessRefusal(AccessRefusalKind.HaltStateUnknown, "r", "m")));
        Assert.Throws<ArgumentNullException>(() => ProjectAccessSetup.CodeOf(null!));
        Assert.Throws<ArgumentNullException>(() => ProjectAccessSetup.PrincipalOf(null!));
    }
}
