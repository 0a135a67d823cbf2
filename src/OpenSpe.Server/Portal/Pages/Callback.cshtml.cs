using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Portal.Pages;

/// <summary>
/// The redirect URI of the <c>spe-portal</c> client: checks the state against the flow cookie, redeems the code with the
/// PKCE verifier over the pinned backchannel, and starts the cookie session holding the tokens.
/// </summary>
internal sealed class CallbackModel(PortalSignInFlow flow, PortalBackchannel backchannel, IOptions<TokenOptions> tokens, TimeProvider time, ILogger<PortalLog> log) : PortalPageModel
{
    /// <summary>Completes the sign-in, or says why not.</summary>
    public async Task<IActionResult> OnGetAsync(string? code, string? state, string? error)
    {
        var pending = flow.End(HttpContext);
        if (error is not null || code is null || pending is null || !PortalSignInFlow.SameState(pending.State, state))
        {
            PortalLog.CallbackRefused(log, error ?? (pending is null ? "no flow cookie" : "state mismatch or no code"));
            return ShowProblem(new ApiProblem(400, ErrorCodes.PortalSignInFailed, PortalText.Get("SignInFailed"), new Dictionary<string, IReadOnlyList<string>>()));
        }

        var (status, body) = await backchannel.PostFormAsync(HttpContext, "/connect/token",
        [
            new("grant_type", "authorization_code"), new("client_id", IdentitySeeder.PortalClientId), new("code", code),
            new("redirect_uri", PortalSignInFlow.RedirectUri(tokens.Value.Issuer!)), new("code_verifier", pending.Verifier),
        ]);
        if (status != HttpStatusCode.OK)
        {
            PortalLog.CallbackRefused(log, "code refused: " + (int)status);
            return ShowProblem(new ApiProblem(400, ErrorCodes.PortalSignInFailed, PortalText.Get("SignInFailed"), new Dictionary<string, IReadOnlyList<string>>()));
        }

        var principal = PortalSession.PrincipalOf(body.GetProperty("access_token").GetString()!);
        await HttpContext.SignInAsync(PortalSession.Scheme, principal, PortalSession.PropertiesFor(body, time));
        PortalLog.SignedIn(log, principal.FindFirst("sub")?.Value ?? "-");
        return LocalRedirect(pending.ReturnUrl);
    }
}
