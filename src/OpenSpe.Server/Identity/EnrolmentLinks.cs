using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace OpenSpe.Server.Identity;

/// <summary>A one-time enrolment link and when it stops working.</summary>
/// <param name="Url">The link, carrying the token.</param>
/// <param name="ExpiresAt">Expiry.</param>
internal sealed record EnrolmentLink(string Url, DateTimeOffset ExpiresAt);

/// <summary>
/// One-time enrolment links: how a person whose account an admin created sets their own password
/// (then enrols a second factor), so the admin never learns a credential that works.
/// </summary>
internal sealed class EnrolmentLinks(IOptions<TokenOptions> tokens, TimeProvider time)
{
    /// <summary>Gives <paramref name="user"/> a new enrolment token (only its hash is kept) and returns the link.</summary>
    public EnrolmentLink Issue(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var token = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var expires = time.GetUtcNow().Add(tokens.Value.EnrolmentLinkLifetime);
        user.EnrolmentTokenHash = Hash(token);
        user.EnrolmentExpiresAt = expires;
        var issuer = tokens.Value.Issuer ?? throw new InvalidOperationException("The token issuer is not set.");
        return new EnrolmentLink(new Uri(new Uri(issuer), "account/activate?token=" + token).ToString(), expires);
    }

    /// <summary>The stored form of a token: SHA-256, hex (the token has 256 random bits, so no salt or slow hash is needed).</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token ?? "")));
}
