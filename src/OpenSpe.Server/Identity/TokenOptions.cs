using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Identity;

/// <summary>Token issuance and validation settings.</summary>
internal sealed class TokenOptions : IValidatableObject
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

    // Sign-in throttling (SignInThrottle): growing delays instead of a lockout a stranger could trigger.

    /// <summary>Failures of one account name from one address before delays start.</summary>
    [Range(1, 100)]
    public int FreeFailuresPerAccountAndAddress { get; set; } = 3;

    /// <summary>Longest delay for one account name from one address.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxDelayPerAccountAndAddress { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Failures of one account name, from any address, before delays start.</summary>
    [Range(1, 1000)]
    public int FreeFailuresPerAccount { get; set; } = 10;

    /// <summary>
    /// Longest delay for one account name from any address. At most 5 minutes, because this is the
    /// key strangers elsewhere can drive: it may slow the owner down, never lock them out.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan MaxDelayPerAccount { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Failures from one address, for any account names, before delays start (room for a shared NAT).</summary>
    [Range(1, 10_000)]
    public int FreeFailuresPerAddress { get; set; } = 20;

    /// <summary>Longest delay for one address.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxDelayPerAddress { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The first delay; each further failure doubles it up to the key's cap.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan FirstSignInDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A key's failures are forgotten when it has had none for this long.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan SignInFailuresForgottenAfter { get; set; } = TimeSpan.FromDays(1);

    /// <summary>After a sign-in from an address, attempts on that account from it skip the account key (still subject to the other two) for this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "90.00:00:00")]
    public TimeSpan KnownAddressTrustedFor { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Most throttle entries kept in memory; the least recently used go first.</summary>
    [Range(1_000, 10_000_000)]
    public int SignInThrottleMaxEntries { get; set; } = 100_000;

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, cap) in new[]
        {
            (nameof(MaxDelayPerAccountAndAddress), MaxDelayPerAccountAndAddress),
            (nameof(MaxDelayPerAccount), MaxDelayPerAccount),
            (nameof(MaxDelayPerAddress), MaxDelayPerAddress),
        })
        {
            if (cap < FirstSignInDelay)
            {
                yield return new ValidationResult($"{name} must not be shorter than {nameof(FirstSignInDelay)}.", [name]);
            }
        }
    }
}

/// <summary>An external OpenID Connect provider whose tokens are accepted for mapped local accounts (FSPER-2, FSPER-6).</summary>
internal sealed class ExternalProviderOptions
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
internal sealed class ExternalIdentityOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "ExternalIdentity";

    /// <summary>The providers, in order.</summary>
    public List<ExternalProviderOptions> Providers { get; } = [];
}
