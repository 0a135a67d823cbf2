using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Identity;

/// <summary>Token issuance and validation settings.</summary>
public sealed class TokenOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Tokens";

    /// <summary>
    /// Issuer URL (<c>iss</c>) of this SPE's tokens. Defaults to the first listen URL; set it to
    /// the public URL when the server sits behind a load balancer.
    /// </summary>
    [MaxLength(500)]
    public string? Issuer { get; set; }

    /// <summary>Audience (<c>aud</c>) that access tokens carry and the API requires.</summary>
    [Required]
    [MaxLength(200)]
    public string Audience { get; set; } = "spe-api";

    /// <summary>
    /// How long a token's account state (security stamp, disabled) is trusted before it is read from
    /// the database again. Changes on this instance take effect at once; on other instances within this
    /// time, so revocation reaches every instance within a second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan AccountStateCacheTime { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a one-time enrolment link works.</summary>
    [Range(typeof(TimeSpan), "00:10:00", "14.00:00:00")]
    public TimeSpan EnrolmentLinkLifetime { get; set; } = TimeSpan.FromDays(3);

    /// <summary>Access-token lifetime; at most 15 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:30", "00:15:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Absolute session lifetime: refresh tokens rotate on each use, but never extend a session past this time after the sign-in.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Failed sign-ins before the account locks.</summary>
    [Range(3, 20)]
    public int MaxFailedSignIns { get; set; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>An external OpenID Connect provider whose tokens are accepted for mapped local accounts (FSPER-2, FSPER-6).</summary>
public sealed class ExternalProviderOptions
{
    /// <summary>Issuer (<c>iss</c>) exactly as in its tokens.</summary>
    [Required]
    [Url]
    public string Issuer { get; set; } = "";

    /// <summary>Audience its tokens must carry for this SPE.</summary>
    [Required]
    public string Audience { get; set; } = "";

    /// <summary>Where its JSON Web Key Set is (HTTPS).</summary>
    [Required]
    [Url]
    public string JwksUrl { get; set; } = "";

    /// <summary>Optional SHA-256 pin of the JWKS server's certificate, for private CAs.</summary>
    public string? JwksCertificateFingerprint { get; set; }

    /// <summary>Claim that proves MFA: <c>amr</c> (default) or <c>acr</c>.</summary>
    [Required]
    public string MfaClaim { get; set; } = "amr";

    /// <summary>Values of <see cref="MfaClaim"/> that count as MFA.</summary>
    public List<string> MfaValues { get; } = [];
}

/// <summary>Trusted external providers.</summary>
public sealed class ExternalIdentityOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "ExternalIdentity";

    /// <summary>The providers, in order.</summary>
    public List<ExternalProviderOptions> Providers { get; } = [];
}
