namespace OpenSpe.Core.Access;

/// <summary>
/// Who asks for project access, whatever carried the credential (an HTTP bearer token, a WebSocket, a gRPC call). A person
/// is known by account id (the token's <c>sub</c>) and never by account name; an application by its OAuth client id.
/// </summary>
public sealed class AccessPrincipal
{
    private static readonly IReadOnlySet<string> NoRoles = new HashSet<string>(StringComparer.Ordinal);

    private AccessPrincipal(string? accountId, string? clientId, bool isApplication, bool hasSecondFactor, IReadOnlySet<string> roles)
    {
        AccountId = accountId;
        ClientId = clientId;
        IsApplication = isApplication;
        HasSecondFactor = hasSecondFactor;
        Roles = roles;
    }

    /// <summary>The person's account id (<c>sub</c>); null for an application, or for a person whose credential names none.</summary>
    public string? AccountId { get; }

    /// <summary>The application's client id; null for a person.</summary>
    public string? ClientId { get; }

    /// <summary>True for an application acting on its own (client credentials): it has no account roles and never acts as a person.</summary>
    public bool IsApplication { get; }

    /// <summary>True when the person signed in with a second factor.</summary>
    public bool HasSecondFactor { get; }

    /// <summary>The account's roles (empty for an application).</summary>
    public IReadOnlySet<string> Roles { get; }

    /// <summary>A person with their account id, whether they used a second factor, and their account roles.</summary>
    public static AccessPrincipal Person(string? accountId, bool hasSecondFactor, IEnumerable<string> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        return new(accountId, null, false, hasSecondFactor, roles.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>An application by its client id.</summary>
    public static AccessPrincipal Application(string? clientId) => new(null, clientId, true, false, NoRoles);
}
