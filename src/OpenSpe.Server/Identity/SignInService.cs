using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Identity;

/// <summary>Why a sign-in was refused: a class of reason for the audit log, never the secret that failed.</summary>
internal enum SignInFailure
{
    /// <summary>Signed in.</summary>
    None,

    /// <summary>No such account.</summary>
    UnknownUser,

    /// <summary>Wrong password.</summary>
    PasswordInvalid,

    /// <summary>Held back by the sign-in throttle: tried inside a delay, before the password was looked at.</summary>
    Throttled,

    /// <summary>Disabled by an admin.</summary>
    Disabled,

    /// <summary>The password was right, a second factor is enrolled, but no code was given (answered as a wrong password).</summary>
    OtpRequired,

    /// <summary>The code did not match.</summary>
    OtpInvalid,

    /// <summary>The code was already used.</summary>
    OtpReplayed,

    /// <summary>The recovery code did not match an unused one.</summary>
    RecoveryCodeInvalid,
}

/// <summary>The outcome of a sign-in.</summary>
/// <param name="User">The account, when signed in.</param>
/// <param name="Failure">The reason class when refused.</param>
/// <param name="AuthenticationMethods">RFC 8176 <c>amr</c> values proven.</param>
/// <param name="RetryAfter">When throttled: how long until the next attempt is looked at.</param>
internal sealed record SignInOutcome(SpeUser? User, SignInFailure Failure, IReadOnlyList<string> AuthenticationMethods, TimeSpan? RetryAfter = null)
{
    /// <summary>True when signed in.</summary>
    public bool Succeeded => Failure == SignInFailure.None && User is not null;
}

/// <summary>
/// Password plus second-factor sign-in shared by the token endpoint and the sign-in page. Every
/// attempt is audited with its reason class. There is no lockout: every failure of either factor
/// counts in the <see cref="SignInThrottle"/>, which delays further attempts instead, and every
/// refusal gets one of two answers (<see cref="RefusalMessage"/>) whatever the reason.
/// </summary>
internal sealed class SignInService(UserManager<SpeUser> users, IDataProtectionProvider protection, TimeProvider time, IAuditLog audit, SignInThrottle throttle)
{
    private const string TotpPurpose = "OpenSpe.Identity.Totp.v1";

    /// <summary>The one answer a refused sign-in gets: the wait when throttled, otherwise "invalid credentials" whatever failed.</summary>
    public static string RefusalMessage(SignInOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return outcome.RetryAfter is { } wait
            ? $"Too many attempts: try again in {Seconds(wait).ToString(CultureInfo.InvariantCulture)} s."
            : "The credentials are invalid.";
    }

    /// <summary>Checks the password and the one-time code (or a recovery code).</summary>
    public async Task<SignInOutcome> SignInAsync(string? username, string? password, string? otp, string? recoveryCode, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var normalized = string.IsNullOrWhiteSpace(username) ? "" : users.NormalizeName(username) ?? "";
        var attempt = throttle.Begin(normalized, context.Connection.RemoteIpAddress);
        if (attempt.RetryAfter is { } wait)
        {
            // Note: refused before the account is looked up or the password checked, because a guess inside a delay must prove
            // nothing and the answer must not depend on whether the name exists; the record names the account only as given.
            context.Response.Headers.RetryAfter = Seconds(wait).ToString(CultureInfo.InvariantCulture);
            return await RefuseAsync(context, null, username, SignInFailure.Throttled, wait,
                new() { ["heldBy"] = HeldBy(attempt.HeldBy), ["retryAfterSeconds"] = Seconds(wait).ToString(CultureInfo.InvariantCulture) });
        }

        var user = normalized.Length == 0 ? null : await users.FindByNameAsync(username!);
        if (user is null)
        {
            // Note: hash anyway so that an unknown name takes as long as a wrong password (no account enumeration by timing).
            users.PasswordHasher.HashPassword(new SpeUser(), password ?? "");
            return await RefuseAsync(context, null, username, SignInFailure.UnknownUser);
        }

        if (!await users.CheckPasswordAsync(user, password ?? ""))
        {
            return await RefuseAsync(context, user, username, SignInFailure.PasswordInvalid);
        }

        if (user.Disabled)
        {
            return await RefuseAsync(context, user, username, SignInFailure.Disabled);
        }

        string[] methods;
        if (!user.MfaEnrolled)
        {
            // Note: without an enrolled factor the token proves only the password, and every policy but enrolment refuses it.
            methods = ["pwd"];
        }
        else if (!string.IsNullOrEmpty(recoveryCode))
        {
            if (!await RedeemRecoveryCodeAsync(user, recoveryCode))
            {
                return await RefuseAsync(context, user, username, SignInFailure.RecoveryCodeInvalid);
            }

            methods = ["pwd", "otp"];
        }
        else if (string.IsNullOrEmpty(otp))
        {
            // Note: answered and counted as a wrong password, because "right password, code missing" would tell a guesser
            // that the password is right (TIR-22); the audit record says otp-required, for the account's owner and auditors.
            return await RefuseAsync(context, user, username, SignInFailure.OtpRequired);
        }
        else
        {
            var failure = await CheckTotpAsync(user, otp);
            if (failure != SignInFailure.None)
            {
                return await RefuseAsync(context, user, username, failure);
            }

            methods = ["pwd", "otp"];
        }

        throttle.Succeeded(attempt);
        await AuditAsync(context, user, user.UserName, "auth.signin", AuditOutcome.Success, new() { ["amr"] = string.Join(' ', methods) });
        return new SignInOutcome(user, SignInFailure.None, methods);
    }

    /// <summary>Starts TOTP enrolment: a new secret, kept pending until confirmed with a code.</summary>
    public async Task<string> BeginTotpEnrolmentAsync(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var secret = Hosting.Base32.Encode(RandomNumberGenerator.GetBytes(20));
        user.PendingTotpSecretProtected = Protector().Protect(secret);
        await ThrowIfFailedAsync(users.UpdateAsync(user));
        return secret;
    }

    /// <summary>Confirms enrolment with a code from the new secret; returns fresh recovery codes (shown once), or null when the code is wrong.</summary>
    public async Task<IReadOnlyList<string>?> ConfirmTotpEnrolmentAsync(SpeUser user, string code)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.PendingTotpSecretProtected is null)
        {
            return null;
        }

        var secret = Hosting.Base32.Decode(Protector().Unprotect(user.PendingTotpSecretProtected));
        if (Totp.Match(secret, code, time.GetUtcNow()) is not { } step)
        {
            return null;
        }

        var codes = Enumerable.Range(0, 10).Select(_ => RandomNumberGenerator.GetString(RecoveryCodeFormat.Alphabet, RecoveryCodeFormat.Length)).ToList();
        user.TotpSecretProtected = user.PendingTotpSecretProtected;
        user.PendingTotpSecretProtected = null;
        user.LastTotpStep = step;
        user.RecoveryCodeHashes = string.Join(' ', codes.Select(HashRecoveryCode));
        await ThrowIfFailedAsync(users.UpdateAsync(user));
        return codes;
    }

    /// <summary>Sets an enrolled secret directly (dev seeding from dev-accounts.json).</summary>
    public void SetEnrolledSecret(SpeUser user, string base32Secret)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.TotpSecretProtected = Protector().Protect(base32Secret);
    }

    /// <summary>Removes the second factor (admin reset): the account can then only enrol again.</summary>
    public static void ResetSecondFactor(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.TotpSecretProtected = null;
        user.PendingTotpSecretProtected = null;
        user.RecoveryCodeHashes = null;
    }

    private async Task<SignInFailure> CheckTotpAsync(SpeUser user, string otp)
    {
        var secret = Hosting.Base32.Decode(Protector().Unprotect(user.TotpSecretProtected!));
        if (Totp.Match(secret, otp, time.GetUtcNow()) is not { } step)
        {
            return SignInFailure.OtpInvalid;
        }

        if (step <= user.LastTotpStep)
        {
            return SignInFailure.OtpReplayed;
        }

        user.LastTotpStep = step;
        // Note: the concurrency stamp makes two simultaneous uses of one code race on this update; only one wins.
        var saved = await users.UpdateAsync(user);
        return saved.Succeeded ? SignInFailure.None : SignInFailure.OtpReplayed;
    }

    private async Task<bool> RedeemRecoveryCodeAsync(SpeUser user, string code)
    {
        var hashes = (user.RecoveryCodeHashes ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var hash = HashRecoveryCode(code.Replace("-", "", StringComparison.Ordinal).Trim().ToUpperInvariant());
        if (!hashes.Remove(hash))
        {
            return false;
        }

        user.RecoveryCodeHashes = string.Join(' ', hashes);
        return (await users.UpdateAsync(user)).Succeeded;
    }

    // The failure was already counted by the throttle when the attempt began (a success gives it back).
    private async Task<SignInOutcome> RefuseAsync(HttpContext context, SpeUser? user, string? username, SignInFailure failure, TimeSpan? retryAfter = null,
        Dictionary<string, string>? details = null)
    {
        AuditDenialReason.Set(context, Reason(failure));
        details ??= [];
        details["reason"] = Reason(failure);
        await AuditAsync(context, user, username, "auth.signin", AuditOutcome.Denied, details);
        return new SignInOutcome(null, failure, [], retryAfter);
    }

    private async Task AuditAsync(HttpContext context, SpeUser? user, string? username, string action, AuditOutcome outcome, Dictionary<string, string> details)
    {
        // Note: a refusal names the account but not its roles, so that it costs the same database work whether the name exists.
        string[] roles = user is null || outcome != AuditOutcome.Success ? [] : (await users.GetRolesAsync(user)).Order(StringComparer.Ordinal).ToArray();
        var actor = new AuditActor(user?.Id, Truncate(username), roles,
            context.Request.HasFormContentType && context.Request.Form.TryGetValue("client_id", out var client) ? Truncate(client.ToString()) : null,
            context.Connection.RemoteIpAddress?.ToString(), Truncate(context.Request.Headers.UserAgent.ToString()));
        await audit.AppendAsync(new AuditEntry(actor, action, new AuditResource("account", user?.Id, null), outcome, null, TraceIds.Current(context), details));
    }

    /// <summary>The audit reason class of a failure.</summary>
    public static string Reason(SignInFailure failure) => failure switch
    {
        SignInFailure.UnknownUser => "unknown-user",
        SignInFailure.PasswordInvalid => "password-invalid",
        SignInFailure.Throttled => "throttled",
        SignInFailure.Disabled => "disabled",
        SignInFailure.OtpRequired => "otp-required",
        SignInFailure.OtpInvalid => "otp-invalid",
        SignInFailure.OtpReplayed => "otp-replayed",
        SignInFailure.RecoveryCodeInvalid => "recovery-code-invalid",
        _ => "none",
    };

    private static string HeldBy(SignInThrottleKey key) => key switch
    {
        SignInThrottleKey.AccountAndAddress => "account-and-address",
        SignInThrottleKey.Account => "account",
        SignInThrottleKey.Address => "address",
        _ => "none",
    };

    private static int Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    private IDataProtector Protector() => protection.CreateProtector(TotpPurpose);

    private static string HashRecoveryCode(string code) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    private static string? Truncate(string? value) => value is { Length: > 200 } ? value[..200] : value;

    private static async Task ThrowIfFailedAsync(Task<IdentityResult> update)
    {
        var result = await update;
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("Account update failed: " + string.Join("; ", result.Errors.Select(e => e.Code)));
        }
    }
}
