using Microsoft.AspNetCore.Identity;

namespace OpenSpe.Server.Identity;

/// <summary>A person's account. Extends ASP.NET Core Identity with the SPE's second-factor and enrolment state.</summary>
internal sealed class SpeUser : IdentityUser
{
    /// <summary>Disabled accounts cannot sign in and their tokens stop refreshing.</summary>
    public bool Disabled { get; set; }

    /// <summary>The enrolled TOTP secret, protected with Data Protection (never stored in the clear).</summary>
    public string? TotpSecretProtected { get; set; }

    /// <summary>A TOTP secret issued by enrolment but not yet confirmed with a code.</summary>
    public string? PendingTotpSecretProtected { get; set; }

    /// <summary>The last TOTP time step accepted: a code at or before it is a replay.</summary>
    public long LastTotpStep { get; set; }

    /// <summary>SHA-256 hashes (hex, space-separated) of the unused recovery codes.</summary>
    public string? RecoveryCodeHashes { get; set; }

    /// <summary>When the account was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// SHA-256 (hex) of the one-time enrolment token an admin's account creation issued; null once
    /// the person has set their own password. The token itself is never stored.
    /// </summary>
    public string? EnrolmentTokenHash { get; set; }

    /// <summary>When the enrolment token stops working.</summary>
    public DateTimeOffset? EnrolmentExpiresAt { get; set; }

    /// <summary>True when a second factor is enrolled.</summary>
    public bool MfaEnrolled => TotpSecretProtected is not null;
}
