using OpenSpe.Core.Identity;
using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access;

/// <summary>
/// The one membership rule (FCR-7, SDR-1): which of the roles a permit names a principal in count, and who oversees. The
/// access chain, permit visibility and the project listing all use it.
/// </summary>
public static class Membership
{
    /// <summary>
    /// The roles that count: an application's only as <c>application</c>; a person's only where they hold the role both in the
    /// permit and in their account, and never <c>application</c>.
    /// </summary>
    public static IReadOnlySet<string> Effective(AccessPrincipal principal, IEnumerable<string> namedRoles)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(namedRoles);
        // Note: a person's permit role needs the account role too, so revoking the account role ends access in every permit at once.
        return principal.IsApplication
            ? namedRoles.Where(r => r == PermitRoles.Application).ToHashSet(StringComparer.Ordinal)
            : namedRoles.Where(r => r != PermitRoles.Application && principal.Roles.Contains(r)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>True for a person holding an oversight role (<see cref="SpeRoles.Oversight"/>); never an application, which has no account roles.</summary>
    public static bool IsOversight(AccessPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return SpeRoles.Oversight.Any(principal.Roles.Contains);
    }

    /// <summary>True when the principal sees the permit at all: oversight sees every permit, everyone else only where a role counts.</summary>
    public static bool Sees(AccessPrincipal principal, IEnumerable<string> namedRoles) =>
        IsOversight(principal) || Effective(principal, namedRoles).Count > 0;
}
