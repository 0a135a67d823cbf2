using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace OpenSpe.Server.Identity;

/// <summary>Creates what identity needs at start: the roles, the first-party OAuth clients and, in dev mode, the dev accounts.</summary>
internal sealed partial class IdentitySeeder(UserManager<SpeUser> users, RoleManager<IdentityRole> roles, IOpenIddictApplicationManager applications, SignInService signIn, TimeProvider time,
    OpenSpe.Server.Audit.IAuditLog audit, Microsoft.Extensions.Logging.ILogger<IdentitySeeder> logger)
{
    /// <summary>The CLI's public client.</summary>
    public const string CliClientId = "spe-cli";

    /// <summary>The portal's public client.</summary>
    public const string PortalClientId = "spe-portal";

    /// <summary>
    /// Property by which clients were once bound to an account they acted for. No client may act for a
    /// person any more: <see cref="MigrateBoundClientsAsync"/> removes it at start.
    /// </summary>
    public const string LegacyAccountProperty = "spe_account";

    /// <summary>Property on an application naming the person who registered it (for the audit log).</summary>
    public const string RegisteredByProperty = "spe_registered_by";

    /// <summary>Ensures roles and first-party clients exist.</summary>
    public async Task SeedAsync(string issuer, CancellationToken cancellationToken)
    {
        foreach (var role in SpeRoles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                await roles.CreateAsync(new IdentityRole(role));
            }
        }

        if (await applications.FindByClientIdAsync(CliClientId, cancellationToken) is null)
        {
            var cli = new OpenIddictApplicationDescriptor
            {
                ClientId = CliClientId,
                ClientType = ClientTypes.Public,
                DisplayName = "spe command line",
            };
            cli.Permissions.UnionWith(
            [
                Permissions.Endpoints.Token, Permissions.Endpoints.DeviceAuthorization, Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.Password, Permissions.GrantTypes.RefreshToken, Permissions.GrantTypes.DeviceCode,
                Permissions.Prefixes.Scope + "openid", Permissions.Prefixes.Scope + "offline_access", Permissions.Scopes.Profile, Permissions.Scopes.Roles,
            ]);
            await applications.CreateAsync(cli, cancellationToken);
        }

        var portalCallback = new Uri(new Uri(issuer), "portal/callback");
        if (await applications.FindByClientIdAsync(PortalClientId, cancellationToken) is { } existingPortal)
        {
            await FollowIssuerAsync(existingPortal, portalCallback, cancellationToken);
        }
        else
        {
            var portal = new OpenIddictApplicationDescriptor
            {
                ClientId = PortalClientId,
                ClientType = ClientTypes.Public,
                DisplayName = "OpenSPE portal",
            };
            portal.RedirectUris.Add(portalCallback);
            portal.Permissions.UnionWith(
            [
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
                Permissions.Prefixes.Scope + "openid", Permissions.Prefixes.Scope + "offline_access", Permissions.Scopes.Profile, Permissions.Scopes.Roles,
            ]);
            portal.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
            await applications.CreateAsync(portal, cancellationToken);
        }

        foreach (var (clientId, account) in await MigrateBoundClientsAsync(cancellationToken))
        {
            LogClientUnbound(logger, clientId, account);
            await audit.AppendAsync(new OpenSpe.Core.Audit.AuditEntry(OpenSpe.Core.Audit.AuditActor.System, "admin.clients.migrated",
                new OpenSpe.Core.Audit.AuditResource("application", clientId, null), OpenSpe.Core.Audit.AuditOutcome.Success, null, null,
                new Dictionary<string, string> { ["clientId"] = clientId, ["wasBoundTo"] = account }), cancellationToken);
        }

        await ReportRoleConflictsAsync(cancellationToken);
    }

    /// <summary>
    /// Keeps the portal's one redirect URI at this server's own address. Note: it is stored with the application at the first
    /// start; a server later moved to another address (a new host name or port) would otherwise refuse every portal sign-in
    /// with a redirect URI mismatch, so the stored one follows the issuer, and only ever points at the server itself.
    /// </summary>
    private async Task FollowIssuerAsync(object portal, Uri callback, CancellationToken cancellationToken)
    {
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, portal, cancellationToken);
        if (descriptor.RedirectUris.Count == 1 && descriptor.RedirectUris.Contains(callback))
        {
            return;
        }

        var previous = string.Join(" ", descriptor.RedirectUris);
        descriptor.RedirectUris.Clear();
        descriptor.RedirectUris.Add(callback);
        await applications.UpdateAsync(portal, descriptor, cancellationToken);
        LogPortalMoved(logger, previous, callback.AbsoluteUri);
    }

    // Accounts created before the separation-of-duties table may hold conflicting roles: the project gate refuses them, and operators hear of it here.
    private async Task ReportRoleConflictsAsync(CancellationToken cancellationToken)
    {
        foreach (var user in users.Users.ToList())
        {
            if (SeparationOfDuties.Within(await users.GetRolesAsync(user)) is { } conflict)
            {
                LogRoleConflict(logger, user.UserName ?? user.Id, conflict.First, conflict.Second);
                await audit.AppendAsync(new OpenSpe.Core.Audit.AuditEntry(OpenSpe.Core.Audit.AuditActor.System, "security.alert",
                    new OpenSpe.Core.Audit.AuditResource("account", user.Id, null), OpenSpe.Core.Audit.AuditOutcome.Success, null, null,
                    new Dictionary<string, string> { ["kind"] = "role-conflict", ["roles"] = conflict.First + " " + conflict.Second }), cancellationToken);
            }
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 11101, Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "SPE11101 client {ClientId} acted for account {Account}; it is now an application of its own and reaches a project only when a permit names it (dataUsers[].application)")]
    private static partial void LogClientUnbound(Microsoft.Extensions.Logging.ILogger logger, string clientId, string account);

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 11102, Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "SPE11102 account {Account} holds {First} and {Second}, which the separation-of-duties table forbids together; it has no project access until an admin revokes one")]
    private static partial void LogRoleConflict(Microsoft.Extensions.Logging.ILogger logger, string account, string first, string second);

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 11103, Level = Microsoft.Extensions.Logging.LogLevel.Information,
        Message = "SPE11103 the portal's redirect URI moved from {Previous} to {Current}, this server's address")]
    private static partial void LogPortalMoved(Microsoft.Extensions.Logging.ILogger logger, string previous, string current);

    /// <summary>Creates the dev accounts (password, enrolled TOTP secret, roles) when they do not exist.</summary>
    public async Task SeedDevAccountsAsync(IReadOnlyList<DevAccount> accounts)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        foreach (var account in accounts)
        {
            if (await users.FindByNameAsync(account.Username) is not null)
            {
                continue;
            }

            var user = new SpeUser { UserName = account.Username, CreatedAt = time.GetUtcNow() };
            signIn.SetEnrolledSecret(user, account.TotpSecret);
            var created = await users.CreateAsync(user, account.Password);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException($"dev account {account.Username}: {string.Join("; ", created.Errors.Select(e => e.Description))}");
            }

            await users.AddToRolesAsync(user, account.Roles);
        }
    }

    /// <summary>Registers a confidential client-credentials application that acts for nobody; returns its secret (shown once).</summary>
    public async Task<string> CreateApplicationAsync(string clientId, string? displayName, string registeredBy, CancellationToken cancellationToken)
    {
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetHexString(48, lowercase: true);
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            DisplayName = displayName ?? clientId,
        };
        descriptor.Permissions.UnionWith([Permissions.Endpoints.Token, Permissions.Endpoints.Revocation, Permissions.GrantTypes.ClientCredentials]);
        descriptor.Properties[RegisteredByProperty] = JsonSerializer.SerializeToElement(registeredBy);
        await applications.CreateAsync(descriptor, cancellationToken);
        return secret;
    }

    /// <summary>
    /// Unbinds clients that were created to act for an account (before applications became principals of
    /// their own): each keeps its secret but now reaches a project only when a permit names it. Returns
    /// the client ids and the accounts they acted for, for the log and the audit record.
    /// </summary>
    public async Task<List<(string ClientId, string Account)>> MigrateBoundClientsAsync(CancellationToken cancellationToken)
    {
        var migrated = new List<(string, string)>();
        var bound = new List<object>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            if ((await applications.GetPropertiesAsync(application, cancellationToken)).ContainsKey(LegacyAccountProperty))
            {
                bound.Add(application);
            }
        }

        foreach (var application in bound)
        {
            var descriptor = new OpenIddictApplicationDescriptor();
            await applications.PopulateAsync(descriptor, application, cancellationToken);
            var account = descriptor.Properties[LegacyAccountProperty].GetString() ?? "";
            descriptor.Properties.Remove(LegacyAccountProperty);
            descriptor.Properties[RegisteredByProperty] = JsonSerializer.SerializeToElement("migrated (was bound to account " + account + ")");
            descriptor.Permissions.Remove(Permissions.Endpoints.Introspection);
            await applications.UpdateAsync(application, descriptor, cancellationToken);
            migrated.Add((descriptor.ClientId!, account));
        }

        return migrated;
    }
}
