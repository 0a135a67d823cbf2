using Microsoft.AspNetCore.Mvc;
using QRCoder;

namespace OpenSpe.Server.Portal.Pages.Account;

/// <summary>
/// Everyone's account page: who they are, a new second factor (the otpauth URI as text and as a QR code drawn on the server),
/// a new password (the policy's errors at the field), their own sessions (end one or all the others). All through the
/// account API with the person's own token.
/// </summary>
internal sealed class AccountModel : PortalPageModel
{
    /// <summary>The person as the API sees them.</summary>
    public WhoAmIView? Me { get; private set; }

    /// <summary>Their live sessions.</summary>
    public IReadOnlyList<AccountSessionView> Sessions { get; private set; } = [];

    /// <summary>A second-factor enrolment just started: the secret and its URI.</summary>
    public TotpEnrolmentView? Enrolment { get; private set; }

    /// <summary>The QR code of <see cref="Enrolment"/>'s URI, as a PNG data URI (the policy allows <c>data:</c> images only).</summary>
    public string? QrCode { get; private set; }

    /// <summary>Recovery codes of a confirmed enrolment (shown once).</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    /// <summary>Field errors of the last form, by field name.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>What the last change did (or why it was refused, without a field).</summary>
    public string? Notice { get; private set; }

    /// <summary>True when <see cref="Notice"/> is a refusal.</summary>
    public bool NoticeIsError { get; private set; }

    /// <summary>True after the password was changed: every session, this one included, has ended.</summary>
    public bool PasswordChanged { get; private set; }

    /// <summary>Shows the account.</summary>
    public Task<IActionResult> OnGetAsync() => ShowAsync();

    /// <summary>True after a confirmed factor replaced the enrolled one: every session, this one included, has ended.</summary>
    public bool FactorReplaced { get; private set; }

    /// <summary>
    /// Starts enrolling a new second factor (the current one stays until the new one is confirmed); replacing an enrolled one needs
    /// the current password.
    /// </summary>
    public async Task<IActionResult> OnPostBeginTotpAsync(string? password)
    {
        var answer = await PostAsync<TotpEnrolmentView>("/api/v1/account/totp", new TotpBeginRequest(string.IsNullOrEmpty(password) ? null : password));
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!, "password");
        }

        Enrolment = answer.Value!;
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(Enrolment.OtpauthUri, QRCodeGenerator.ECCLevel.M);
        QrCode = "data:image/png;base64," + Convert.ToBase64String(new PngByteQRCode(data).GetGraphic(6));
        return await ShowAsync();
    }

    /// <summary>Confirms the new second factor with a code from it.</summary>
    public async Task<IActionResult> OnPostConfirmTotpAsync(string? code)
    {
        var answer = await PostAsync<RecoveryCodesView>("/api/v1/account/totp/confirm", new TotpConfirmRequest((code ?? "").Trim()));
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!, "code");
        }

        RecoveryCodes = answer.Value!.RecoveryCodes;
        if (answer.Value.SessionsEnded)
        {
            // Note: as after a password change, this portal session has ended too, so the page shows the codes without asking the
            // API again with a token that no longer works.
            Title = PortalText.Get("NavAccount");
            FactorReplaced = true;
            Notice = PortalText.Get("AccountTotpReplaced");
            return Page();
        }

        Notice = PortalText.Get("AccountTotpDone");
        return await ShowAsync();
    }

    /// <summary>Changes the password; on success every session ends, this one too.</summary>
    public async Task<IActionResult> OnPostPasswordAsync(string? currentPassword, string? newPassword)
    {
        var answer = await PostAsync<string>("/api/v1/account/password", new PasswordChangeRequest(currentPassword ?? "", newPassword ?? ""));
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        // Note: the change gave the account a new security stamp, so this portal session has ended too: the page says so
        // instead of asking the API again with a token that no longer works.
        Title = PortalText.Get("NavAccount");
        PasswordChanged = true;
        Notice = PortalText.Get("AccountPasswordChanged");
        return Page();
    }

    /// <summary>Ends one of the person's other sessions.</summary>
    public async Task<IActionResult> OnPostEndSessionAsync(string? id)
    {
        var answer = await DeleteAsync<string>("/api/v1/account/sessions/" + Segment(id ?? ""));
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        return Redirect("/account");
    }

    /// <summary>Ends every session of the person but this one.</summary>
    public async Task<IActionResult> OnPostEndOthersAsync()
    {
        var answer = await PostAsync<SessionsEndedView>("/api/v1/account/sessions/end-others", new { });
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        Notice = PortalText.Format("AccountOthersEnded", answer.Value!.Ended);
        return await ShowAsync();
    }

    private async Task<IActionResult> RefusedAsync(ApiProblem problem, string? field = null)
    {
        if (problem.Status is not (400 or 403 or 404 or 409 or 422))
        {
            return ShowProblem(problem);
        }

        var errors = problem.ByField();
        if (errors.Count == 0 && field is not null)
        {
            errors = FieldErrors.For(field, problem.Detail ?? PortalText.Get("ProblemUnknown"));
        }

        FieldErrors = errors;
        Notice = problem.Detail ?? PortalText.Get("ProblemUnknown");
        NoticeIsError = true;
        var shown = await ShowAsync();
        Response.StatusCode = problem.Status;
        return shown;
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = PortalText.Get("NavAccount");
        var me = await GetAsync<WhoAmIView>("/api/v1/account");
        if (!me.Succeeded)
        {
            return ShowProblem(me.Problem!);
        }

        var sessions = await GetAsync<List<AccountSessionView>>("/api/v1/account/sessions");
        if (!sessions.Succeeded)
        {
            return ShowProblem(sessions.Problem!);
        }

        Me = me.Value;
        Sessions = sessions.Value!;
        return Page();
    }
}
