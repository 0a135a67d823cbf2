using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>The SPE's account roles (see docs/separation-of-duties.md). These names are part of the API: never rename.</summary>
public static class AccountRoles
{
    /// <summary>Health Data Access Body officer.</summary>
    public const string Hdab = "hdab";

    /// <summary>Reviews airlock requests.</summary>
    public const string OutputChecker = "output-checker";

    /// <summary>Uploads permitted datasets.</summary>
    public const string DataHolder = "data-holder";

    /// <summary>Data user named in a permit.</summary>
    public const string Researcher = "researcher";

    /// <summary>Runs the service; never sees project data.</summary>
    public const string Operator = "operator";

    /// <summary>Reads and verifies audit logs; changes nothing.</summary>
    public const string Auditor = "auditor";

    /// <summary>Manages accounts; never sees project data.</summary>
    public const string Admin = "admin";

    /// <summary>Every role.</summary>
    public static IReadOnlyList<string> All { get; } = [Hdab, OutputChecker, DataHolder, Researcher, Operator, Auditor, Admin];
}

/// <summary>The caller (<c>GET /api/v1/account</c>).</summary>
public sealed record WhoAmIView(string SubjectId, string Username, IReadOnlyList<string> Roles, IReadOnlyList<string> AuthenticationMethods, string? ClientId, bool MfaEnrolled);

/// <summary>A new TOTP secret.</summary>
public sealed record TotpEnrolmentView(string Secret, string OtpauthUri);

/// <summary>
/// Starts TOTP enrolment; <paramref name="Password"/> is the account's current password, required when a second factor is
/// enrolled already (replacing it), because a signed-in session alone must not be able to swap the factor.
/// </summary>
public sealed record TotpBeginRequest(string? Password);

/// <summary>
/// Recovery codes, shown once; <paramref name="SessionsEnded"/> is true when the confirmed factor replaced an enrolled one, which
/// ended every session of the account, this one included.
/// </summary>
public sealed record RecoveryCodesView(IReadOnlyList<string> RecoveryCodes, bool SessionsEnded = false);

/// <summary>What a recovery code looks like: the server makes them so and the help texts describe them so.</summary>
public static class RecoveryCodeFormat
{
    /// <summary>Characters in a code.</summary>
    public const int Length = 10;

    /// <summary>Capital letters and digits without 0, 1, I and O, which read alike.</summary>
    public const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    /// <summary>For help texts: the form, an example, and what sign-in ignores.</summary>
    public const string Description = "10 capital letters and digits, as printed at enrolment (e.g. K7QF2MZP9A); case and dashes are ignored";
}

/// <summary>Confirms TOTP enrolment.</summary>
public sealed record TotpConfirmRequest([property: Required, RegularExpression("^[0-9]{6}$", ErrorMessage = "code must be 6 digits.")] string Code);

/// <summary>Activates a new account with the token of its enrolment link and the person's own password.</summary>
public sealed record ActivateRequest(
    [property: Required, StringLength(100, MinimumLength = 20)] string Token,
    [property: Required, StringLength(256, MinimumLength = 12)] string Password)
{
    /// <summary>Names the type only: the token and the password must not reach a log or an exception message.</summary>
    public override string ToString() => nameof(ActivateRequest);
}

/// <summary>Changes the password.</summary>
public sealed record PasswordChangeRequest(
    [property: Required, StringLength(256)] string CurrentPassword,
    [property: Required, StringLength(256, MinimumLength = 12)] string NewPassword)
{
    /// <summary>Names the type only: the passwords must not reach a log or an exception message.</summary>
    public override string ToString() => nameof(PasswordChangeRequest);
}

/// <summary>An account as admins see it, with the external identities mapped to it (FSPER-2).</summary>
public sealed record UserView(string Username, IReadOnlyList<string> Roles, bool Disabled, bool MfaEnrolled, IReadOnlyList<ExternalIdentityView> ExternalIdentities);

/// <summary>An external identity mapped to an account: the provider's issuer and the subject its tokens carry.</summary>
public sealed record ExternalIdentityView(string Issuer, string Subject);

/// <summary>A new account: its one-time enrolment link (to hand to the person out of band), the roles granted and those waiting for a second admin.</summary>
public sealed record CreatedUserView(string Username, string EnrolmentUrl, DateTimeOffset EnrolmentExpiresAt, IReadOnlyList<string> Granted, IReadOnlyList<string> PendingApproval);

/// <summary>A new one-time enrolment link.</summary>
public sealed record EnrolmentLinkView(string Username, string EnrolmentUrl, DateTimeOffset EnrolmentExpiresAt);

/// <summary>A registered application.</summary>
public sealed record ClientView(string ClientId, string? DisplayName, string? RegisteredBy);

/// <summary>
/// The result of a role change or of a request for a second admin (new enrolment link, external identity, second-factor reset):
/// <c>granted</c>, <c>revoked</c>, or <c>pending-approval</c> with the id a second admin approves; an approval answers <c>granted</c>
/// (a role), <c>approved</c> (a link or an identity) or <c>factor-removed</c> (a second-factor reset). The approval of a new enrolment
/// link carries the link (<paramref name="Enrolment"/>), shown once to the approver.
/// </summary>
public sealed record RoleChangeView(string Status, string? ApprovalId, EnrolmentLinkView? Enrolment = null);

/// <summary>
/// A change waiting for a second admin: a high-privilege grant, a new enrolment link (role <c>enrolment</c>), or the mapping of an
/// external identity (role <c>external-identity</c>, with <paramref name="ExternalIdentity"/> the identity that would be mapped).
/// </summary>
public sealed record RoleGrantView(string Id, string Username, string Role, string RequestedBy, DateTimeOffset RequestedAt, ExternalIdentityView? ExternalIdentity = null);

/// <summary>A new application and its secret, shown once.</summary>
public sealed record CreatedClientView(string ClientId, string ClientSecret, string RegisteredBy);

/// <summary>Creates an account.</summary>
public sealed record CreateUserRequest(
    [property: Required, StringLength(64, MinimumLength = 2), RegularExpression("^[a-z0-9][a-z0-9._-]*$", ErrorMessage = "username: lower-case letters, digits, '.', '_' and '-'.")] string Username,
    [property: Required, MaxLength(7)] IReadOnlyList<string> Roles);

/// <summary>Registers an application. It names no account: applications act for nobody.</summary>
public sealed record CreateClientRequest(
    [property: Required, StringLength(64, MinimumLength = 3), RegularExpression("^[a-z0-9][a-z0-9._-]*$", ErrorMessage = "clientId: lower-case letters, digits, '.', '_' and '-'.")] string ClientId,
    [property: StringLength(200)] string? DisplayName = null);

/// <summary>Maps an external identity to an account.</summary>
public sealed record ExternalIdentityRequest(
    [property: Required, Url, StringLength(500)] string Issuer,
    [property: Required, StringLength(255, MinimumLength = 1)] string Subject);

/// <summary>
/// One of the caller's own sign-in sessions (<c>GET /api/v1/account/sessions</c>): a sign-in whose refresh token is still valid.
/// </summary>
/// <param name="Id">The session's id (to end it).</param>
/// <param name="ClientId">The application it was signed in through (the portal, the CLI).</param>
/// <param name="CreatedAt">When the session began.</param>
/// <param name="RenewedAt">When its tokens were last renewed.</param>
/// <param name="ExpiresAt">When its current refresh token expires unless renewed.</param>
/// <param name="Current">True for the session the request itself belongs to.</param>
public sealed record AccountSessionView(string Id, string? ClientId, DateTimeOffset? CreatedAt, DateTimeOffset? RenewedAt, DateTimeOffset? ExpiresAt, bool Current);

/// <summary>How many sessions a request ended.</summary>
/// <param name="Ended">The number of sessions ended.</param>
public sealed record SessionsEndedView(int Ended);
