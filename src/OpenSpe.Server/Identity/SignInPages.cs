using System.Net;
using System.Text;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using OpenSpe.Server.Portal;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace OpenSpe.Server.Identity;

/// <summary>
/// The interactive pages of the OAuth flows that need a person at a browser: sign-in (password
/// and one-time code), device verification (`spe login --device`) and authorization (the
/// portal, code + PKCE). Plain server-rendered HTML, no script, anti-forgery on every form.
/// </summary>
internal static class SignInPages
{
    /// <summary>Maps the pages.</summary>
    public static IEndpointRouteBuilder MapSignInPages(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/account/login", LoginFormAsync).WithName("pages.login").AllowAnonymous().ExcludeFromDescription();
        routes.MapPost("/account/login", LoginAsync).WithName("pages.login.submit").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        routes.MapMethods("/connect/authorize", ["GET", "POST"], AuthorizeAsync).WithName("oauth.authorize").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        routes.MapGet("/connect/verify", VerifyFormAsync).WithName("oauth.verify").AllowAnonymous().ExcludeFromDescription();
        routes.MapGet("/account/approved", (HttpContext context) => Page(context, "Approved", "<p>The device is signed in. You can close this window.</p>"))
            .WithName("pages.approved").AllowAnonymous().ExcludeFromDescription();
        routes.MapPost("/connect/verify", VerifyAsync).WithName("oauth.verify.submit").AllowAnonymous().ExcludeFromDescription().DisableAntiforgery();
        return routes;
    }

    private static IResult LoginFormAsync(HttpContext context, IAntiforgery antiforgery, string? returnUrl) =>
        Page(context, PortalText.Get("SignInTitle"), LoginForm(context, antiforgery, returnUrl, null));

    private static async Task<IResult> LoginAsync(HttpContext context, IAntiforgery antiforgery, SignInService signIn, TokenPrincipals principals)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.BadRequest();
        }

        var form = await context.Request.ReadFormAsync();
        var returnUrl = LocalOnly(form["returnUrl"]);
        var outcome = await signIn.SignInAsync(form["username"], form["password"], form["otp"], null, context);
        if (!outcome.Succeeded || !IdentitySetup.SecondFactors.Overlaps(outcome.AuthenticationMethods))
        {
            var message = outcome.Succeeded ? PortalText.Get("SignInEnrolFirst") : SignInService.RefusalMessage(outcome);
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page(context, PortalText.Get("SignInTitle"), LoginForm(context, antiforgery, returnUrl, message));
        }

        await context.SignInAsync(IdentitySetup.SessionCookie, await principals.ForSessionAsync(outcome.User!, outcome.AuthenticationMethods));
        return Results.Redirect(returnUrl);
    }

    private static async Task<IResult> AuthorizeAsync(HttpContext context, UserManager<SpeUser> users, TokenPrincipals principals)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("The OpenIddict request is missing.");
        var session = await context.AuthenticateAsync(IdentitySetup.SessionCookie);
        if (!session.Succeeded || !IdentitySetup.HasSecondFactor(session.Principal!))
        {
            var here = context.Request.PathBase + context.Request.Path + QueryString.Create(
                context.Request.HasFormContentType ? context.Request.Form.ToList() : context.Request.Query.ToList());
            return Results.Challenge(new AuthenticationProperties { RedirectUri = here }, [IdentitySetup.SessionCookie]);
        }

        var user = await users.FindByIdAsync(session.Principal!.FindFirst("sub")!.Value);
        if (user is null || user.Disabled || !SessionStillValid(session.Principal!, user))
        {
            return Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
            {
                [OpenIddictServerAspNetCoreConstants.Properties.Error] = Errors.AccessDenied,
                [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = "The account cannot sign in.",
            }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        }

        // First-party clients only (the portal): consent is implied by the HDAB's deployment, so none is asked.
        var principal = await principals.ForPersonAsync(user, session.Principal!.FindAll("amr").Select(c => c.Value), request.GetScopes(), TokenPrincipals.SessionStartOf(session.Principal!));
        return Results.SignIn(principal, authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> VerifyFormAsync(HttpContext context, IAntiforgery antiforgery)
    {
        var session = await context.AuthenticateAsync(IdentitySetup.SessionCookie);
        if (!session.Succeeded)
        {
            return Results.Challenge(new AuthenticationProperties { RedirectUri = context.Request.Path + context.Request.QueryString }, [IdentitySetup.SessionCookie]);
        }

        var userCode = context.Request.Query["user_code"].ToString();
        var body = new StringBuilder()
            .Append("<p>Signed in as <b>").Append(WebUtility.HtmlEncode(session.Principal!.FindFirst("preferred_username")?.Value)).Append("</b>.</p>")
            .Append("<p>Approve the sign-in of <code>spe</code> on your other device only if it shows this code.</p>")
            .Append("<form method=\"post\" action=\"/connect/verify\">")
            .Append(Antiforgery(context, antiforgery))
            .Append("<label>Code <input name=\"user_code\" autocomplete=\"off\" value=\"").Append(WebUtility.HtmlEncode(userCode)).Append("\"></label> ")
            .Append("<button type=\"submit\">Approve</button></form>");
        return Page(context, "Approve device", body.ToString());
    }

    private static async Task<IResult> VerifyAsync(HttpContext context, IAntiforgery antiforgery, UserManager<SpeUser> users, TokenPrincipals principals)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.BadRequest();
        }

        var session = await context.AuthenticateAsync(IdentitySetup.SessionCookie);
        if (!session.Succeeded || !IdentitySetup.HasSecondFactor(session.Principal!))
        {
            return Results.Challenge(new AuthenticationProperties { RedirectUri = "/connect/verify" }, [IdentitySetup.SessionCookie]);
        }

        var result = await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        var user = await users.FindByIdAsync(session.Principal!.FindFirst("sub")!.Value);
        if (result.Principal is not { } pending || string.IsNullOrEmpty(pending.GetClaim(Claims.ClientId)) || user is null || user.Disabled || !SessionStillValid(session.Principal!, user))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page(context, "Approve device", "<p>This code is not valid or has expired. Start <code>spe login --device</code> again.</p>");
        }

        var principal = await principals.ForPersonAsync(user, session.Principal!.FindAll("amr").Select(c => c.Value), pending.GetScopes(), TokenPrincipals.SessionStartOf(session.Principal!));
        return Results.SignIn(principal, new AuthenticationProperties { RedirectUri = "/account/approved" }, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    // Note: a sign-in cookie from before a password change, factor reset, role change or logout cannot approve new tokens.
    private static bool SessionStillValid(System.Security.Claims.ClaimsPrincipal session, SpeUser user) =>
        string.Equals(session.FindFirst(SpeClaims.Stamp)?.Value, AccountStateCache.StampOf(user), StringComparison.Ordinal);

    private static string LoginForm(HttpContext context, IAntiforgery antiforgery, string? returnUrl, string? error)
    {
        var body = new StringBuilder();
        if (error is not null)
        {
            body.Append("<p role=\"alert\">").Append(WebUtility.HtmlEncode(error)).Append("</p>");
        }

        body.Append("<form method=\"post\" action=\"/account/login\">")
            .Append(Antiforgery(context, antiforgery))
            .Append("<input type=\"hidden\" name=\"returnUrl\" value=\"").Append(WebUtility.HtmlEncode(LocalOnly(returnUrl))).Append("\">")
            .Append("<p><label>").Append(WebUtility.HtmlEncode(PortalText.Get("SignInAccount"))).Append(" <input name=\"username\" autocomplete=\"username\" required></label></p>")
            .Append("<p><label>").Append(WebUtility.HtmlEncode(PortalText.Get("SignInPassword"))).Append(" <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label></p>")
            .Append("<p><label>").Append(WebUtility.HtmlEncode(PortalText.Get("SignInOtp"))).Append(" <input name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" required></label></p>")
            .Append("<p><button type=\"submit\">").Append(WebUtility.HtmlEncode(PortalText.Get("SignInSubmit"))).Append("</button></p></form>");
        return body.ToString();
    }

    private static string Antiforgery(HttpContext context, IAntiforgery antiforgery)
    {
        // Note: antiforgery forces "no-cache, no-store" on any page with a token and logs a warning each time the
        // response asked for less; asking for it first keeps the operator's log free of that noise.
        context.Response.Headers.CacheControl = "no-cache, no-store";
        context.Response.Headers.Pragma = "no-cache";
        var tokens = antiforgery.GetAndStoreTokens(context);
        return $"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(tokens.FormFieldName)}\" value=\"{WebUtility.HtmlEncode(tokens.RequestToken)}\">";
    }

    // Note: only same-site paths are followed after sign-in, so the page cannot be used as an open redirect.
    // Control characters are refused too: browsers drop tabs and newlines from a Location, so "/\t/evil" would become "//evil",
    // and CR/LF would break the response header (as ASP.NET Core's IsLocalUrl does).
    internal static string LocalOnly(string? url) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Any(char.IsControl) ? url : "/";

    private static IResult Page(HttpContext context, string title, string body)
    {
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        var html = $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>OpenSPE — {WebUtility.HtmlEncode(title)}</title></head>" +
            $"<body><main><h1>{WebUtility.HtmlEncode(title)}</h1>{body}</main></body></html>";
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, context.Response.StatusCode);
    }
}
