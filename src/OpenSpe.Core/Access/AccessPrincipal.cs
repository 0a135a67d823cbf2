namespace OpenSpe.Core.Access;

/// <summary>
/// Who asks for project access, whatever carried the credential (an HTTP bearer token, a WebSocket, a gRPC call). A person
/// is known by account id (the token's <c>sub</c>) and never by account name; an application by its OAuth client id.
/// </summary>
public sealed class AccessPrincipal
{
    private static readonly IReadOnlySet<string> NoRoles = new HashSet<string>(StringComparer.Ordinal);

    private AccessPrincipal(string? accountId, string? clientId, bool isApplication, bool hasSecondFactor, IReadOnlySet<string> roles,
        string? externalIssuer = null, string? externalSubject = null)
    {
        AccountId = accountId;
        ExternalIssuer = externalIssuer;
        ExternalSubject = externalSubject;
        ClientId = clientId;
        IsApplication = isApplication;
        HasSecondFactor = hasSecondFactor;
        Roles = roles;
    }

    /// <summary>The person's account id (<c>sub</c>); null for an application, or for a person whose credential names none.</summary>
    public string? AccountId { get; }

    /// <summary>
    /// The issuer of the external provider the person signed in through (with <see cref="ExternalSubject"/>); null for a local sign-in.
    /// A permit that names a person by external identity names only a sign-in through that provider with that subject.
    /// </summary>
    public string? ExternalIssuer { get; }

    /// <summary>The subject the external provider's token carried; null for a local sign-in.</summary>
    public string? ExternalSubject { get; }

    /// <summary>The application's client id; null for a person.</summary>
    public string? ClientId { get; }

    /// <summary>True for an application acting on its own (client credentials): it has no account roles and never acts as a person.</summary>
    public bool IsApplication { get; }

    /// <summary>True when the person signed in with a second factor.</summary>
    public bool HasSecondFactor { get; }

    /// <summary>The account's roles (empty for an application).</summary>
    public IReadOnlySet<string> Roles { get; }

    /// <summary>
    /// A person with their account id, whether they used a second factor, their account roles, and, when they signed in through an
    /// external provider, its issuer and the subject its token carried (both or neither).
    /// </summary>
    public static AccessPrincipal Person(string? accountId, bool hasSecondFactor, IEnumerable<string> roles, string? externalIssuer = null, string? externalSubject = null)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var external = externalIssuer is not null && externalSubject is not null;
        return new(accountId, null, false, hasSecondFactor, roles.ToHashSet(StringComparer.Ordinal), external ? externalIssuer : null, external ? externalSubject : null);
    }

    /// <summary>An application by its client id.</summary>
    public static AccessPrincipal Application(string? clientId) => new(null, clientId, true, false, NoRoles);
}
