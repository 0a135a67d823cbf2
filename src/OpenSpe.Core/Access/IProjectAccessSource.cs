using OpenSpe.Core.Permits;

namespace OpenSpe.Core.Access;

/// <summary>What the access chain reads from the SPE's records (the server implements it over its database).</summary>
public interface IProjectAccessSource
{
    /// <summary>The project's permit, or null when there is no such project.</summary>
    Task<ProjectPermit?> FindPermitAsync(string projectId, CancellationToken cancellationToken);

    /// <summary>
    /// The roles the permit's current version names <paramref name="principal"/> in, as named: a person by account id or by an
    /// external identity linked to the account, an application by client id. <see cref="Membership.Effective"/> decides which count.
    /// </summary>
    Task<IReadOnlySet<string>> NamedRolesAsync(ProjectPermit permit, AccessPrincipal principal, CancellationToken cancellationToken);

    /// <summary>The permit's current document.</summary>
    Task<PermitDocument> DocumentAsync(ProjectPermit permit, CancellationToken cancellationToken);

    /// <summary>The account id of each named account (names as the permit writes them); names without an account are left out.</summary>
    Task<IReadOnlyDictionary<string, string>> AccountIdsAsync(IReadOnlyCollection<string> accountNames, CancellationToken cancellationToken);
}
