using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace OpenSpe.Server.Identity;

/// <summary>
/// Accepts tokens from a trusted external OpenID Connect provider (FSPER-2, FSPER-6): the token
/// is validated against the provider's JWKS, mapped to a local account by (issuer, subject), and
/// replaced by the local account's identity and roles. The provider's MFA claim is required.
/// </summary>
internal static class ExternalIdentity
{
    public static void Configure(JwtBearerOptions options, ExternalProviderOptions provider, TimeProvider time, IHttpClientFactory http)
    {
        IdentitySetup.ConfigureBearer(options, AccessTokenValidation.ForExternalProvider(provider.Issuer, provider.Audience, time), time);
        var client = provider.JwksCertificateFingerprint is { Length: > 0 } pin ? Hosting.PinnedHttpClient.Create(pin, TimeSpan.FromSeconds(10)) : http.CreateClient("external-jwks");
        options.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
            provider.JwksUrl, new JwksRetriever(), new HttpDocumentRetriever(client) { RequireHttps = true })
        {
            AutomaticRefreshInterval = TimeSpan.FromHours(1),
            RefreshInterval = TimeSpan.FromMinutes(1),
        };
        var challenge = options.Events.OnChallenge;
        options.Events.OnTokenValidated = context => MapToLocalAccountAsync(context, provider);
        options.Events.OnChallenge = challenge;
    }

    private static async Task MapToLocalAccountAsync(TokenValidatedContext context, ExternalProviderOptions provider)
    {
        var subject = context.Principal?.FindFirst("sub")?.Value;
        var users = context.HttpContext.RequestServices.GetRequiredService<UserManager<SpeUser>>();
        var user = subject is null ? null : await users.FindByLoginAsync(provider.Issuer, subject);
        if (user is null || user.Disabled)
        {
            context.Fail("No active local account is mapped to this external identity.");
            return;
        }

        var values = context.Principal!.FindAll(provider.MfaClaim).Select(c => c.Value);
        var accepted = provider.MfaValues.Count > 0 ? provider.MfaValues : ["mfa", "otp", "hwk"];
        var mfa = values.Any(v => accepted.Contains(v, StringComparer.Ordinal));

        var claims = new List<Claim>
        {
            new("sub", user.Id),
            new("preferred_username", user.UserName!),
            new("idp", provider.Issuer),
            new(SpeClaims.ExternalSubject, subject!),
            new("amr", "ext"),
        };
        if (mfa)
        {
            // Note: the provider's own MFA statement is what counts; without it the token is a password-only sign-in and every policy refuses it.
            claims.Add(new Claim("amr", "mfa"));
        }

        claims.AddRange((await users.GetRolesAsync(user)).Select(r => new Claim("role", r)));
        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, context.Scheme.Name, "preferred_username", "role"));
    }

    /// <summary>Reads a bare JWKS document into a configuration holding only signing keys.</summary>
    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var document = await retriever.GetDocumentAsync(address, cancel);
            var configuration = new OpenIdConnectConfiguration();
            foreach (var key in new JsonWebKeySet(document).GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }

            return configuration;
        }
    }
}
