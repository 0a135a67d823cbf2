using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Identity;

/// <summary>Access-token validation settings.</summary>
public sealed class TokenOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Tokens";

    /// <summary>Issuer (<c>iss</c>) that access tokens must carry.</summary>
    [Required]
    [MaxLength(500)]
    public string Issuer { get; set; } = "openspe";

    /// <summary>Audience (<c>aud</c>) that access tokens must carry.</summary>
    [Required]
    [MaxLength(200)]
    public string Audience { get; set; } = "spe-api";

    /// <summary>Longest lifetime an access token may have.</summary>
    [Range(typeof(TimeSpan), "00:00:30", "00:15:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);
}
