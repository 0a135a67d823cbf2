using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace OpenSpe.Server.Identity;

/// <summary>
/// Logout: revoking any of a person's tokens at <c>/connect/revoke</c> ends every token and session
/// of that person within a second (the account's security stamp changes), not only the one token
/// OpenIddict marks as revoked: an access token is a self-contained JWT the API would otherwise
/// accept until it expires.
/// </summary>
internal sealed class RevocationEndsSession(UserManager<SpeUser> users, AccountStateCache states, IAuditLog audit) : IOpenIddictServerHandler<HandleRevocationRequestContext>
{
    /// <summary>Runs once OpenIddict has validated the token and attached its principal.</summary>
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
        .UseScopedHandler<RevocationEndsSession>()
        .SetOrder(OpenIddictServerHandlers.Revocation.AttachPrincipal.Descriptor.Order + 500)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(HandleRevocationRequestContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var principal = context.GenericTokenPrincipal;
        var subject = principal?.GetClaim(OpenIddictConstants.Claims.Subject);
        if (principal is null || subject is null || subject.StartsWith(TokenPrincipals.ApplicationSubject(""), StringComparison.Ordinal))
        {
            return;
        }

        var user = await users.FindByIdAsync(subject);
        if (user is null)
        {
            return;
        }

        await users.UpdateSecurityStampAsync(user);
        states.Invalidate(user.Id);
        await audit.AppendAsync(new AuditEntry(
            new AuditActor(user.Id, user.UserName, [], context.Request?.ClientId, null, null),
            "auth.logout", new AuditResource("account", user.Id, null), AuditOutcome.Success, null, null,
            new Dictionary<string, string> { ["via"] = "revocation" }), context.CancellationToken);
    }
}
