using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Portal.Pages;

/// <summary>
/// Signs out (a form POST with its anti-forgery token): revokes the portal's refresh token at <c>/connect/revoke</c>, which
/// ends every token and session of the person on the server (their security stamp changes), then drops the cookies.
/// </summary>
internal sealed class SignOutModel(PortalBackchannel backchannel) : PortalPageModel
{
    /// <summary>Ends the session, here and on the server.</summary>
    public async Task<IActionResult> OnPostAsync()
    {
        var refresh = await HttpContext.GetTokenAsync(PortalSession.Scheme, "refresh_token");
        var access = await HttpContext.GetTokenAsync(PortalSession.Scheme, "access_token");
        if (!string.IsNullOrEmpty(refresh) || !string.IsNullOrEmpty(access))
        {
            await backchannel.PostFormAsync(HttpContext, "/connect/revoke",
            [
                new("client_id", IdentitySeeder.PortalClientId), new("token", string.IsNullOrEmpty(refresh) ? access! : refresh),
            ]);
        }

        await HttpContext.SignOutAsync(PortalSession.Scheme);
        await HttpContext.SignOutAsync(IdentitySetup.SessionCookie);
        return LocalRedirect("/");
    }
}
