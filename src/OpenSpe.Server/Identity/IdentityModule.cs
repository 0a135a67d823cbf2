using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Identity;

/// <summary>
/// The identity module: accounts, second factors, the OAuth 2.0 / OpenID Connect server, external identity providers,
/// the sign-in pages, and the account and admin APIs.
/// </summary>
internal static class IdentityModule
{
    /// <summary>Registers identity (sections <c>Tokens</c> and <c>ExternalIdentity</c>) and its start-up work (seeding).</summary>
    /// <exception cref="SpeConfigurationException">The token or provider settings cannot work.</exception>
    public static IServiceCollection AddIdentityModule(this IServiceCollection services, SpeModuleContext host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var tokens = OptionsRegistration.BindNow<TokenOptions>(host.Configuration, TokenOptions.Section);
        var issuer = IssuerFor(tokens, host.Endpoints);
        var external = new ExternalIdentityOptions();
        host.Configuration.GetSection(ExternalIdentityOptions.Section).Bind(external);
        foreach (var provider in external.Providers)
        {
            OptionsRegistration.ValidateNow(provider, ExternalIdentityOptions.Section);
        }

        var signingKey = TokenSigningKey.LoadOrCreate(host.Directory);
        var encryptionKey = TokenEncryptionKey.LoadOrCreate(host.Directory);
        services.AddValidatedOptions<TokenOptions>(TokenOptions.Section);
        services.PostConfigure<TokenOptions>(o => o.Issuer = issuer);
        services.AddSingleton(signingKey);
        services.AddSingleton(external);
        services.AddSingleton<AccessTokenIssuer>();
        services.AddScoped<TokenPrincipals>();
        services.AddSpeIdentity(signingKey, encryptionKey, issuer, external);
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "__Host-spe-af";
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddSingleton<IModuleStart, AccountSeeding>();
        return services;
    }

    /// <summary>Maps the OAuth endpoints, the sign-in pages and the account and admin APIs.</summary>
    public static IEndpointRouteBuilder MapIdentityModule(this IEndpointRouteBuilder routes)
    {
        routes.MapOAuthEndpoints();
        routes.MapSignInPages();
        routes.MapAccountEndpoints();
        routes.MapAccountSessionEndpoints();
        routes.MapAdminEndpoints();
        return routes;
    }

    private static string IssuerFor(TokenOptions tokens, IReadOnlyList<IPEndPoint> endpoints)
    {
        if (!string.IsNullOrWhiteSpace(tokens.Issuer))
        {
            if (!Uri.TryCreate(tokens.Issuer, UriKind.Absolute, out var configured) || configured.Scheme != Uri.UriSchemeHttps)
            {
                throw new SpeConfigurationException("Tokens:Issuer must be an absolute https:// URL");
            }

            return configured.AbsoluteUri;
        }

        var first = endpoints[0];
        if (first.Port == 0)
        {
            throw new SpeConfigurationException("Server:Urls: give a fixed port (the token issuer URL is derived from it), or set Tokens:Issuer");
        }

        var host = first.Address.Equals(IPAddress.Any) || first.Address.Equals(IPAddress.IPv6Any)
            ? "localhost"
            : first.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{first.Address}]" : first.Address.ToString();
        return $"https://{host}:{first.Port}/";
    }

    /// <summary>The CLI's client, the roles, and in dev mode the dev accounts.</summary>
    private sealed class AccountSeeding : IModuleStart
    {
        public int Order => ModuleStartOrder.Accounts;

        public async Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            var server = services.GetRequiredService<IOptions<ServerOptions>>().Value;
            IReadOnlyList<DevAccount> accounts = server.Dev ? DevAccounts.LoadOrCreate(services.GetRequiredService<DataDirectory>()) : [];
            await using var scope = services.CreateAsyncScope();
            var seeder = scope.ServiceProvider.GetRequiredService<IdentitySeeder>();
            await seeder.SeedAsync(services.GetRequiredService<IOptions<TokenOptions>>().Value.Issuer!, cancellationToken);
            await seeder.SeedDevAccountsAsync(accounts);
        }
    }
}
