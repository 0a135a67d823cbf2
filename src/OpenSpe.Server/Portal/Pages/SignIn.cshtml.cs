using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Portal.Pages;

/// <summary>Starts the portal's sign-in: authorization code + PKCE (S256) at this SPE's own OpenID Connect server.</summary>
internal sealed class SignInModel(PortalSignInFlow flow, IOptions<TokenOptions> tokens) : PortalPageModel
{
    /// <summary>Remembers the flow (state, verifier, where to go after) in a short-lived protected cookie and sends the browser to authorize.</summary>
    public IActionResult OnGet(string? returnUrl)
    {
        var authorize = flow.Begin(HttpContext, tokens.Value.Issuer!, SignInPages.LocalOnly(returnUrl));
        return Redirect(authorize);
    }
}
