using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenSpe.Server.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace OpenSpe.Server.Identity;

/// <summary>Creates what identity needs at start: the roles, the first-party OAuth clients and, in dev mode, the dev accounts.</summary>
public sealed class IdentitySeeder(UserManager<SpeUser> users, RoleManager<IdentityRole> roles, IOpenIddictApplicationManager applications, SignInService signIn, TimeProvider time)
{
    /// <summary>The CLI's public client.</summary>
    public const string CliClientId = "spe-cli";

    /// <summary>The portal's public client.</summary>
    public const string PortalClientId = "spe-portal";

    /// <summary>Property on a client-credentials client naming the account it acts for.</summary>
    public const string AccountProperty = "spe_account";

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

        if (await applications.FindByClientIdAsync(PortalClientId, cancellationToken) is null)
        {
            var portal = new OpenIddictApplicationDescriptor
            {
                ClientId = PortalClientId,
                ClientType = ClientTypes.Public,
                DisplayName = "OpenSPE portal",
            };
            portal.RedirectUris.Add(new Uri(new Uri(issuer), "portal/callback"));
            portal.Permissions.UnionWith(
            [
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
                Permissions.Prefixes.Scope + "openid", Permissions.Prefixes.Scope + "offline_access", Permissions.Scopes.Profile, Permissions.Scopes.Roles,
            ]);
            portal.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);
            await applications.CreateAsync(portal, cancellationToken);
        }
    }

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

            var user = new SpeUser { UserName = account.Username, CreatedAt = time.GetUtcNow(), LockoutEnabled = true };
            signIn.SetEnrolledSecret(user, account.TotpSecret);
            var created = await users.CreateAsync(user, account.Password);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException($"dev account {account.Username}: {string.Join("; ", created.Errors.Select(e => e.Description))}");
            }

            await users.AddToRolesAsync(user, account.Roles);
        }
    }

    /// <summary>Creates a confidential client-credentials client bound to <paramref name="account"/>; returns its secret (shown once).</summary>
    public async Task<string> CreateClientAsync(string clientId, SpeUser account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetHexString(48, lowercase: true);
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            DisplayName = $"{clientId} (acts for {account.UserName})",
        };
        descriptor.Permissions.UnionWith([Permissions.Endpoints.Token, Permissions.Endpoints.Introspection, Permissions.Endpoints.Revocation, Permissions.GrantTypes.ClientCredentials]);
        descriptor.Properties[AccountProperty] = JsonSerializer.SerializeToElement(account.Id);
        await applications.CreateAsync(descriptor, cancellationToken);
        return secret;
    }
}
