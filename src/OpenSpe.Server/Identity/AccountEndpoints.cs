using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;

namespace OpenSpe.Server.Identity;

/// <summary>The caller's own account: who am I, enrol a second factor, change the password.</summary>
internal static class AccountEndpoints
{
    /// <summary>Maps <c>/api/v1/account</c>.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/account").WithTags("Account").WithMetadata(new AuditResourceAttribute("account")).ProducesCommonProblems();
        group.MapGet("", WhoAmIAsync).WithName("account.whoami").RequireAuthorization(SpePolicies.SignedIn).ProducesSignedInProblems()
            .WithSummary("The caller as the server sees them: account, roles, how they signed in.");
        group.MapPost("/totp", BeginTotpAsync).WithName("account.totp.begin").RequireAuthorization(SpePolicies.Enrolment).ProducesSignedInProblems().ProducesProblems(404)
            .ProducesValidationProblem().ProducesJsonBodyProblems()
            .WithSummary("Starts TOTP enrolment: returns a new secret to load into an authenticator app. Replacing an enrolled second factor needs the "
                + "current password in the body; confirming the replacement ends every session of the account.");
        group.MapPost("/totp/confirm", ConfirmTotpAsync).WithName("account.totp.confirm").RequireAuthorization(SpePolicies.Enrolment).ProducesSignedInProblems().ProducesProblems(404)
            .Validate<TotpConfirmRequest>()
            .WithSummary("Confirms enrolment with a code from the new secret; returns recovery codes once.");
        group.MapPost("/activate", ActivateAsync).WithName("account.activate").AllowAnonymous().Validate<ActivateRequest>()
            .WithSummary("Sets the password of a new account with its one-time enrolment link's token; then sign in and enrol a second factor.");
        group.MapPost("/password", ChangePasswordAsync).WithName("account.password").RequireAuthorization(SpePolicies.Human).ProducesSignedInProblems().ProducesProblems(404)
            .Validate<PasswordChangeRequest>()
            .WithSummary("Changes the caller's password (at least 12 characters, not a common or breached pattern).");
        return routes;
    }

    private static async Task<Ok<WhoAmIView>> WhoAmIAsync(HttpContext context, UserManager<SpeUser> users)
    {
        var user = await CurrentAsync(context, users);
        return TypedResults.Ok(new WhoAmIView(
            context.User.FindFirst("sub")?.Value ?? "",
            context.User.FindFirst("preferred_username")?.Value ?? "",
            context.User.FindAll("role").Select(c => c.Value).ToArray(),
            context.User.FindAll("amr").Select(c => c.Value).ToArray(),
            context.User.FindFirst("client_id")?.Value,
            user?.MfaEnrolled ?? false));
    }

    private static async Task<Results<Ok<TotpEnrolmentView>, ProblemHttpResult, ValidationProblem>> BeginTotpAsync(TotpBeginRequest? request, HttpContext context,
        UserManager<SpeUser> users, SignInService signIn, IAuditLog audit, SignInThrottle throttle)
    {
        var user = await CurrentAsync(context, users);
        if (user is null)
        {
            return Problem(404, "The account no longer exists.");
        }

        if (user.MfaEnrolled && !IdentitySetup.HasSecondFactor(context.User))
        {
            return Problem(403, "A second factor is already enrolled; sign in with it to replace it.");
        }

        // Note: replacing an enrolled factor needs the password as well as the signed-in session, because a session (a stolen
        // token, an unlocked screen) that could swap the factor would lock the person out and keep the account.
        // The body is optional (a first enrolment needs none), so its length is judged here rather than by a body filter.
        if (user.MfaEnrolled)
        {
            // Note: the password is judged under the sign-in throttle, as at sign-in: otherwise a stolen session could guess it here at
            // the API's rate, then replace the factor and keep the account.
            var attempt = BeginPasswordCheck(context, users, user, throttle);
            if (attempt.RetryAfter is not null)
            {
                return Throttled(context, attempt);
            }

            if (request?.Password is not { Length: > 0 and <= 1024 } password || !await users.CheckPasswordAsync(user, password))
            {
                AuditDenialReason.Set(context, "password-rejected");
                return Problems.Invalid(new Dictionary<string, string[]> { ["password"] = ["Give your current password to replace your second factor."] },
                    "A second factor is enrolled already; replacing it needs your current password. Nothing was changed.");
            }

            throttle.Succeeded(attempt);
        }

        var secret = await signIn.BeginTotpEnrolmentAsync(user);
        var uri = $"otpauth://totp/OpenSPE:{Uri.EscapeDataString(user.UserName!)}?secret={secret}&issuer=OpenSPE&algorithm=SHA1&digits=6&period=30";
        await AuditAccountAsync(audit, context, user, "account.mfa.enrolment-started");
        return TypedResults.Ok(new TotpEnrolmentView(secret, uri));
    }

    private static async Task<Results<Ok<RecoveryCodesView>, ProblemHttpResult>> ConfirmTotpAsync(TotpConfirmRequest request, HttpContext context, UserManager<SpeUser> users, SignInService signIn, IAuditLog audit,
        AccountStateCache states)
    {
        var user = await CurrentAsync(context, users);
        if (user is null)
        {
            return Problem(404, "The account no longer exists.");
        }

        var replacing = user.MfaEnrolled;
        var codes = await signIn.ConfirmTotpEnrolmentAsync(user, request.Code);
        if (codes is null)
        {
            AuditDenialReason.Set(context, "otp-invalid");
            return Problem(400, "The code does not match the new secret (or no enrolment was started).");
        }

        if (replacing)
        {
            // Note: a new factor ends every session, this one included, as a password change does: whoever held a session of the
            // old factor must sign in again with the new one.
            await users.UpdateSecurityStampAsync(user);
            states.Invalidate(user.Id);
        }

        await AuditAccountAsync(audit, context, user, replacing ? "account.mfa.replaced" : "account.mfa.enrolled");
        return TypedResults.Ok(new RecoveryCodesView(codes, replacing));
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> ActivateAsync(ActivateRequest request, HttpContext context, UserManager<SpeUser> users, IAuditLog audit, TimeProvider time, AccountStateCache states)
    {
        var hash = EnrolmentLinks.Hash(request.Token);
        var user = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(users.Users, u => u.EnrolmentTokenHash == hash, context.RequestAborted);
        // Note: an unknown, used and expired token get the same answer, so the endpoint tells nothing about which links exist.
        if (user is null || user.EnrolmentExpiresAt is not { } expires || expires <= time.GetUtcNow())
        {
            AuditDenialReason.Set(context, "enrolment-link-invalid");
            return Problem(400, "This enrolment link is not valid: it was used already, has expired, or never existed. Ask an admin for a new one.");
        }

        user.PasswordHash = null;
        var result = await users.AddPasswordAsync(user, request.Password);
        if (!result.Succeeded)
        {
            AuditDenialReason.Set(context, "password-rejected");
            return Problems.Invalid(new Dictionary<string, string[]> { ["password"] = result.Errors.Select(e => e.Description).ToArray() }, "The password was not set.");
        }

        user.EnrolmentTokenHash = null;
        user.EnrolmentExpiresAt = null;
        await users.UpdateAsync(user);
        await users.UpdateSecurityStampAsync(user);
        states.Invalidate(user.Id);
        await audit.AppendAsync(new AuditEntry(
            new AuditActor(user.Id, user.UserName, [], null, context.Connection.RemoteIpAddress?.ToString(), null),
            "account.activated", new AuditResource("account", user.Id, null), AuditOutcome.Success, null, TraceIds.Current(context)));
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> ChangePasswordAsync(PasswordChangeRequest request, HttpContext context, UserManager<SpeUser> users, IAuditLog audit, AccountStateCache states,
        SignInThrottle throttle)
    {
        var user = await CurrentAsync(context, users);
        if (user is null)
        {
            return Problem(404, "The account no longer exists.");
        }

        // Note: the current password is judged under the sign-in throttle, as at sign-in, so a stolen session cannot guess it here.
        var attempt = BeginPasswordCheck(context, users, user, throttle);
        if (attempt.RetryAfter is not null)
        {
            return Throttled(context, attempt);
        }

        var result = await users.ChangePasswordAsync(user, request.CurrentPassword, request.NewPassword);
        var mismatch = result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.PasswordMismatch));
        if (!mismatch)
        {
            // The current password was right (whether or not the new one passed the policy): the attempt is given back.
            throttle.Succeeded(attempt);
        }

        if (!result.Succeeded)
        {
            AuditDenialReason.Set(context, "password-rejected");
            return Problems.Invalid(
                new Dictionary<string, string[]> { [mismatch ? "currentPassword" : "newPassword"] = result.Errors.Select(e => e.Description).ToArray() },
                "The password was not changed.");
        }

        // Note: the password change gave the account a new security stamp: every other session of this person ends within a second.
        states.Invalidate(user.Id);
        await AuditAccountAsync(audit, context, user, "account.password.changed");
        return TypedResults.NoContent();
    }

    /// <summary>Counts a check of the account's password in the sign-in throttle (the same account and address keys as a sign-in).</summary>
    private static SignInAttempt BeginPasswordCheck(HttpContext context, UserManager<SpeUser> users, SpeUser user, SignInThrottle throttle) =>
        throttle.Begin(users.NormalizeName(user.UserName) ?? "", context.Connection.RemoteIpAddress);

    /// <summary>The 429 answer while the throttle holds the account's password checks back; the password was not looked at.</summary>
    private static ProblemHttpResult Throttled(HttpContext context, SignInAttempt attempt)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(attempt.RetryAfter!.Value.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        AuditDenialReason.Set(context, "throttled");
        return Problems.Of(429, $"Too many wrong passwords: try again in {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s. Nothing was changed.",
            ErrorCodes.RateLimited);
    }

    internal static async Task<SpeUser?> CurrentAsync(HttpContext context, UserManager<SpeUser> users) =>
        context.User.FindFirst("sub")?.Value is { } id ? await users.FindByIdAsync(id) : null;

    private static Task<long> AuditAccountAsync(IAuditLog audit, HttpContext context, SpeUser user, string action) =>
        audit.AppendAsync(new AuditEntry(
            AuditActors.From(context.User, context),
            action, new AuditResource("account", user.Id, null), AuditOutcome.Success, null, TraceIds.Current(context)));

    private static ProblemHttpResult Problem(int status, string detail) => Problems.Of(status, detail);
}
