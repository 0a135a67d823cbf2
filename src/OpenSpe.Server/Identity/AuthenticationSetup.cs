using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenSpe.Server.Api;

namespace OpenSpe.Server.Identity;

/// <summary>Bearer-token authentication and the role policies. Deny by default: the fallback policy requires a signed-in caller with MFA.</summary>
public static class AuthenticationSetup
{
    /// <summary>Methods in <c>amr</c> that prove a second factor (RFC 8176).</summary>
    public static readonly IReadOnlySet<string> SecondFactors = new HashSet<string>(StringComparer.Ordinal) { "otp", "hwk", "mfa", "swk" };

    /// <summary>Adds JWT bearer validation and the SPE's policies.</summary>
    public static IServiceCollection AddSpeAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenSigningKey, IOptions<TokenOptions>, TimeProvider>((options, key, tokens, time) =>
            {
                options.MapInboundClaims = false;
                options.TimeProvider = time;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = tokens.Value.Issuer,
                    ValidAudience = tokens.Value.Audience,
                    IssuerSigningKey = key.SecurityKey,
                    ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = "preferred_username",
                    RoleClaimType = "role",
                };
                options.Events = new JwtBearerEvents
                {
                    OnChallenge = async context =>
                    {
                        context.HandleResponse();
                        var expired = context.AuthenticateFailure is SecurityTokenExpiredException;
                        context.Response.Headers.WWWAuthenticate = expired
                            ? "Bearer error=\"invalid_token\", error_description=\"The access token expired\""
                            : "Bearer";
                        await ProblemDetailsSetup.WriteProblemAsync(context.HttpContext, 401, ErrorCodes.Unauthenticated,
                            expired ? "The access token has expired: refresh it or sign in again." : "Authentication is required: send a valid bearer token from a multi-factor sign-in.");
                    },
                    OnForbidden = context => ProblemDetailsSetup.WriteProblemAsync(context.HttpContext, 403, ErrorCodes.Forbidden,
                        "Your roles do not allow this, or your sign-in did not use a second factor."),
                };
            });

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(MfaPolicy().Build())
            .SetDefaultPolicy(MfaPolicy().Build())
            .AddPolicy(SpePolicies.Authenticated, MfaPolicy().Build())
            .AddPolicy(SpePolicies.Auditor, MfaPolicy().RequireRole(SpeRoles.Auditor).Build())
            .AddPolicy(SpePolicies.Operator, MfaPolicy().RequireRole(SpeRoles.Operator).Build());
        return services;
    }

    private static AuthorizationPolicyBuilder MfaPolicy() => new AuthorizationPolicyBuilder(JwtBearerDefaults.AuthenticationScheme)
        .RequireAuthenticatedUser()
        // Note: a human token without a second factor is refused everywhere (EHDSR-5, TIR-22); client-credential tokens carry a client_id and no amr.
        .RequireAssertion(context =>
            context.User.FindAll("amr").Any(c => SecondFactors.Contains(c.Value))
            || (context.User.HasClaim(c => c.Type == "client_id") && !context.User.HasClaim(c => c.Type == "amr")));
}
