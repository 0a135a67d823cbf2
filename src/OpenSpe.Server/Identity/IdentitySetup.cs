using System.IdentityModel.Tokens.Jwt;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server.AspNetCore;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Hosting;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Identity;

/// <summary>
/// Accounts (ASP.NET Core Identity), the OAuth 2.0 / OpenID Connect server (OpenIddict) and the
/// API's token validation and policies. Deny by default: the fallback policy requires a person
/// signed in with a second factor.
/// </summary>
internal static class IdentitySetup
{
    /// <summary>Scheme that picks the right bearer validator by the token's issuer.</summary>
    public const string BearerSelector = "spe-bearer";

    /// <summary>Scheme validating this SPE's own access tokens.</summary>
    public const string LocalBearer = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>Cookie for the interactive sign-in page (device verification and authorization code flows only; the API never accepts it).</summary>
    public const string SessionCookie = "spe-session";

    /// <summary>Methods in <c>amr</c> that prove a second factor (RFC 8176).</summary>
    public static readonly IReadOnlySet<string> SecondFactors = new HashSet<string>(StringComparer.Ordinal) { "otp", "hwk", "mfa", "swk" };

    /// <summary>Registers identity, the OAuth server and validation.</summary>
    public static IServiceCollection AddSpeIdentity(this IServiceCollection services, TokenSigningKey signingKey, SymmetricSecurityKey encryptionKey, string issuer, ExternalIdentityOptions external)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        ArgumentNullException.ThrowIfNull(external);
        services.AddIdentityCore<SpeUser>(o =>
            {
                o.Password.RequiredLength = 12;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 4;
                // Note: no lockout, because anyone could lock anyone out; SignInThrottle delays guessing instead.
                o.Lockout.AllowedForNewUsers = false;
                o.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyz0123456789-._";
                o.User.RequireUniqueEmail = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<SpeDbContext>()
            .AddPasswordValidator<BreachedPatternPasswordValidator>();
        services.AddSingleton<SignInThrottle>();
        services.AddScoped<SignInService>();
        services.AddSingleton<EnrolmentLinks>();
        services.AddSingleton<AccountStateCache>();
        services.AddSingleton<SessionStateCache>();
        services.AddSingleton<ApplicationStateCache>();
        services.AddScoped<IdentitySeeder>();
        services.AddScoped<AdminContext>();

        services.AddOpenIddict()
            .AddCore(o => o.UseEntityFrameworkCore().UseDbContext<SpeDbContext>())
            .AddServer(o =>
            {
                o.SetIssuer(new Uri(issuer));
                o.SetTokenEndpointUris("/connect/token")
                    .SetDeviceAuthorizationEndpointUris("/connect/device")
                    .SetEndUserVerificationEndpointUris("/connect/verify")
                    .SetAuthorizationEndpointUris("/connect/authorize")
                    .SetRevocationEndpointUris("/connect/revoke")
                    .SetIntrospectionEndpointUris("/connect/introspect")
                    .SetJsonWebKeySetEndpointUris("/.well-known/jwks");
                o.AllowPasswordFlow()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow()
                    .AllowDeviceAuthorizationFlow()
                    .AllowAuthorizationCodeFlow()
                    .RequireProofKeyForCodeExchange()
                    .Configure(server => server.CodeChallengeMethods.Remove(OpenIddict.Abstractions.OpenIddictConstants.CodeChallengeMethods.Plain)); // Note: S256 only, because a plain challenge is the verifier itself.
                o.RegisterScopes("openid", "offline_access", "profile", "roles");
                o.AddSigningKey(signingKey.SecurityKey);
                o.AddEncryptionKey(encryptionKey);
                // Access tokens are signed JWTs the API validates without a database round trip; refresh tokens, codes and device codes stay encrypted.
                o.DisableAccessTokenEncryption();
                // Note: no grace period for a used refresh token: a second use is treated as theft and refused.
                o.SetRefreshTokenReuseLeeway(TimeSpan.Zero);
                o.AddEventHandler(RevocationEndsSession.Descriptor);
                o.UseAspNetCore()
                    .EnableTokenEndpointPassthrough()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableEndUserVerificationEndpointPassthrough()
                    .EnableStatusCodePagesIntegration();
            });
        services.AddOptions<OpenIddict.Server.OpenIddictServerOptions>().Configure<IOptions<TokenOptions>>((o, tokens) =>
        {
            o.AccessTokenLifetime = tokens.Value.AccessTokenLifetime;
            o.RefreshTokenLifetime = tokens.Value.RefreshTokenLifetime;
            o.DeviceCodeLifetime = TimeSpan.FromMinutes(10);
            o.UserCodeLifetime = TimeSpan.FromMinutes(10);
        });

        var authentication = services.AddAuthentication(BearerSelector)
            .AddPolicyScheme(BearerSelector, "Bearer token (local or trusted external issuer)", o =>
                o.ForwardDefaultSelector = context => SelectBearerScheme(context, issuer, external))
            .AddJwtBearer(LocalBearer)
            .AddCookie(SessionCookie, o =>
            {
                o.Cookie.Name = "__Host-spe-session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.ExpireTimeSpan = TimeSpan.FromMinutes(15);
                o.SlidingExpiration = false;
                o.LoginPath = "/account/login";
                o.AccessDeniedPath = "/account/login";
            });
        services.AddOptions<JwtBearerOptions>(LocalBearer).Configure<IOptions<TokenOptions>, TimeProvider>((o, tokens, time) =>
        {
            ConfigureBearer(o, AccessTokenValidation.ForLocalTokens(issuer, tokens.Value.Audience, [signingKey.SecurityKey], time), time);
            o.Events.OnTokenValidated = SessionValidation.CheckAsync;
        });
        for (var i = 0; i < external.Providers.Count; i++)
        {
            var provider = external.Providers[i];
            authentication.AddJwtBearer(ExternalScheme(i));
            services.AddOptions<JwtBearerOptions>(ExternalScheme(i)).Configure<TimeProvider, IHttpClientFactory>((o, time, http) =>
                ExternalIdentity.Configure(o, provider, time, http));
        }

        services.AddHttpClient();
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(HumanPolicy().Build())
            .SetDefaultPolicy(HumanPolicy().Build())
            .AddPolicy(SpePolicies.Human, HumanPolicy().Build())
            .AddPolicy(SpePolicies.HumanOrClient, Bearer().RequireAssertion(c => HasSecondFactor(c.User) || IsClient(c.User)).Build())
            .AddPolicy(SpePolicies.Enrolment, Bearer().RequireAssertion(c => !IsClient(c.User)).Build())
            .AddPolicy(SpePolicies.SignedIn, Bearer().Build());
        services.AddAuthorization(o =>
        {
            foreach (var role in SpeRoles.All)
            {
                o.AddPolicy(SpePolicies.ForRole(role), HumanPolicy().RequireRole(role).Build());
            }

            foreach (var policy in SpePolicies.AnyOfRoles)
            {
                o.AddPolicy(policy, HumanPolicy().RequireRole(policy["roles:".Length..].Split(',')).Build());
            }
        });
        return services;
    }

    /// <summary>True when the principal proved a second factor.</summary>
    public static bool HasSecondFactor(System.Security.Claims.ClaimsPrincipal user) =>
        user.FindAll("amr").Any(c => SecondFactors.Contains(c.Value));

    /// <summary>True for an OAuth client acting by client credentials (it has a client and no person's sign-in methods).</summary>
    public static bool IsClient(System.Security.Claims.ClaimsPrincipal user) =>
        user.HasClaim(c => c.Type == "client_id") && !user.HasClaim(c => c.Type == "amr");

    /// <summary>
    /// The external provider's issuer and the subject its token carried when <paramref name="user"/> signed in through one; null for a
    /// local sign-in. Read only from the identity an external scheme built, never from a token the SPE issues.
    /// </summary>
    public static (string Issuer, string Subject)? ExternalSignIn(System.Security.Claims.ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = user.Identities.FirstOrDefault(i => i.AuthenticationType?.StartsWith(ExternalSchemePrefix, StringComparison.Ordinal) == true);
        return identity?.FindFirst("idp")?.Value is { } issuer && identity.FindFirst(SpeClaims.ExternalSubject)?.Value is { } subject ? (issuer, subject) : null;
    }

    /// <summary>Scheme name of the <paramref name="index"/>th external provider.</summary>
    public static string ExternalScheme(int index) => ExternalSchemePrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private const string ExternalSchemePrefix = "external-";

    /// <summary>Sets a JwtBearer scheme to validate with <paramref name="parameters"/> and answer refusals with problem details.</summary>
    internal static void ConfigureBearer(JwtBearerOptions options, TokenValidationParameters parameters, TimeProvider time)
    {
        options.MapInboundClaims = false;
        options.TimeProvider = time;
        options.TokenValidationParameters = parameters;
        options.Events = new JwtBearerEvents
        {
            OnChallenge = async context =>
            {
                context.HandleResponse();
                var expired = context.AuthenticateFailure is SecurityTokenExpiredException;
                var ended = context.AuthenticateFailure is SessionEndedException;
                context.Response.Headers.WWWAuthenticate = expired || ended
                    ? $"Bearer error=\"invalid_token\", error_description=\"{(expired ? "The access token expired" : "The session has ended")}\""
                    : "Bearer";
                await ProblemDetailsSetup.WriteProblemAsync(context.HttpContext, 401, ErrorCodes.Unauthenticated,
                    expired ? "The access token has expired: refresh it or sign in again."
                    : ended ? "The session has ended (password or second factor changed, role revoked, account disabled or signed out): sign in again."
                    : "Authentication is required: send a valid bearer token from a multi-factor sign-in.");
            },
            OnForbidden = context => ProblemDetailsSetup.WriteProblemAsync(context.HttpContext, 403, ErrorCodes.Forbidden,
                "Your roles do not allow this, or your sign-in did not use a second factor."),
        };
    }

    private static string SelectBearerScheme(HttpContext context, string issuer, ExternalIdentityOptions external)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || external.Providers.Count == 0)
        {
            return LocalBearer;
        }

        try
        {
            // Reading the issuer before validation only picks the validator; the chosen validator checks everything.
            var tokenIssuer = new JwtSecurityTokenHandler().ReadJwtToken(header[7..].Trim()).Issuer;
            for (var i = 0; i < external.Providers.Count; i++)
            {
                if (string.Equals(external.Providers[i].Issuer, tokenIssuer, StringComparison.Ordinal) && !string.Equals(tokenIssuer, issuer, StringComparison.Ordinal))
                {
                    return ExternalScheme(i);
                }
            }
        }
        catch (ArgumentException)
        {
            // Not a JWT: the local validator refuses it with a 401 problem.
        }

        return LocalBearer;
    }

    private static AuthorizationPolicyBuilder Bearer() => new AuthorizationPolicyBuilder(BearerSelector).RequireAuthenticatedUser();

    // Note: a person's token without a second factor is refused everywhere but enrolment (EHDSR-5, TIR-22).
    private static AuthorizationPolicyBuilder HumanPolicy() => Bearer().RequireAssertion(c => HasSecondFactor(c.User));
}
