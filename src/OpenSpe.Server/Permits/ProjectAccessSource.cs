using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Core.Access;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Permits;

/// <summary>
/// The access chain's reads over the database: a project's permit, whom its current version names (the one membership query,
/// also used for permit visibility), its document, and account ids by name.
/// </summary>
internal sealed class ProjectAccessSource(SpeDbContext database, UserManager<SpeUser> users) : IProjectAccessSource
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The chain's view of a permit row.</summary>
    public static ProjectPermit From(PermitEntity permit)
    {
        ArgumentNullException.ThrowIfNull(permit);
        return new(permit.Id, permit.ProjectId, permit.Reference, permit.Title, permit.State, permit.CurrentVersion, permit.ValidFrom, permit.ValidUntil);
    }

    /// <inheritdoc />
    public async Task<ProjectPermit?> FindPermitAsync(string projectId, CancellationToken cancellationToken)
    {
        var permit = await database.Permits.AsNoTracking().FirstOrDefaultAsync(p => p.ProjectId == projectId, cancellationToken);
        return permit is null ? null : From(permit);
    }

    /// <inheritdoc />
    public Task<IReadOnlySet<string>> NamedRolesAsync(ProjectPermit permit, AccessPrincipal principal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(permit);
        return NamedRolesAsync(permit.Id, principal, cancellationToken);
    }

    /// <summary>The roles the permit's current version names <paramref name="principal"/> in (one query).</summary>
    public async Task<IReadOnlySet<string>> NamedRolesAsync(string permitId, AccessPrincipal principal, CancellationToken cancellationToken) =>
        (await Naming(principal).Where(m => m.PermitId == permitId).Select(m => m.Role).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every permit whose current version names <paramref name="principal"/>, with the roles it names them in (one query).</summary>
    public async Task<Dictionary<string, IReadOnlySet<string>>> NamedRolesByPermitAsync(AccessPrincipal principal, CancellationToken cancellationToken)
    {
        var rows = await Naming(principal).Select(m => new { m.PermitId, m.Role }).ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.PermitId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Select(r => r.Role).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public Task<PermitDocument> DocumentAsync(ProjectPermit permit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(permit);
        return DocumentAsync(permit.Id, permit.Version, cancellationToken);
    }

    /// <summary>The document of one version of a permit.</summary>
    public async Task<PermitDocument> DocumentAsync(string permitId, int version, CancellationToken cancellationToken)
    {
        var json = await database.PermitVersions.Where(v => v.PermitId == permitId && v.Version == version).Select(v => v.DocumentJson).FirstAsync(cancellationToken);
        return JsonSerializer.Deserialize<PermitDocument>(json, PermitService.DocumentJson)!;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, string>> AccountIdsAsync(IReadOnlyCollection<string> accountNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accountNames);
        // Names are matched as Identity matches a sign-in name (normalized), so the permit's spelling of a name finds the one account it means.
        var normalized = accountNames.Distinct(StringComparer.Ordinal).ToDictionary(n => n, n => users.NormalizeName(n) ?? n, StringComparer.Ordinal);
        var keys = normalized.Values.Distinct(StringComparer.Ordinal).ToList();
        var accounts = await database.Users.Where(u => u.NormalizedUserName != null && keys.Contains(u.NormalizedUserName))
            .Select(u => new { u.Id, u.NormalizedUserName }).ToListAsync(cancellationToken);
        var byKey = accounts.ToDictionary(a => a.NormalizedUserName!, a => a.Id, StringComparer.Ordinal);
        return normalized.Where(n => byKey.ContainsKey(n.Value)).ToDictionary(n => n.Key, n => byKey[n.Value], StringComparer.Ordinal);
    }

    /// <summary>The member rows of every permit that name <paramref name="principal"/>.</summary>
    private IQueryable<PermitMemberEntity> Naming(AccessPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.IsApplication)
        {
            // Note: an application is a member only by its own client id, never through an account (FCR-7).
            var clientId = principal.ClientId;
            return clientId is null
                ? database.PermitMembers.Where(m => false)
                : database.PermitMembers.Where(m => m.ClientId == clientId && m.Role == PermitRoles.Application);
        }

        // Note: a person is named by account id, or by an external identity (issuer, subject); never by name. An external identity names
        // only a sign-in through that provider with that subject (the principal's external sign-in), still mapped to the account, because
        // a mapping alone is one admin's word: an admin who mapped a permit's identity to an account of their own and signed that account in
        // locally would otherwise reach the project's data (SDR-2). The provider, not the admin, vouches for the person.
        var accountId = principal.AccountId;
        if (accountId is null)
        {
            return database.PermitMembers.Where(m => false);
        }

        var (issuer, subject) = (principal.ExternalIssuer, principal.ExternalSubject);
        return issuer is null || subject is null
            ? database.PermitMembers.Where(m => m.ClientId == null && m.AccountId == accountId)
            : database.PermitMembers.Where(m => m.ClientId == null
                && (m.AccountId == accountId
                    || (m.AccountId == null && m.Issuer == issuer && m.Subject == subject
                        && database.UserLogins.Any(l => l.UserId == accountId && l.LoginProvider == issuer && l.ProviderKey == subject))));
    }
}
