using System.Net.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Portal.Pages.Admin;

/// <summary>
/// The admin's accounts (SDR-2, OPR-2): every account with its roles and state, a new account (its one-time enrolment link
/// shown once, to hand over out of band), disable and enable, a new enrolment link (asked for here, approved and received by a
/// second admin), a reset second factor, role grants and revocations, the pending high-privilege grants and links a second admin approves, and each account's external identities (FSPER-2:
/// the (issuer, subject) pairs mapped to it, mapped from an issuer the server trusts and removed again). Every change is the API's
/// (<c>/api/v1/admin</c>), so its rules hold here: nobody changes their own account, no account holds two roles the
/// separation-of-duties table forbids together, and the admin, operator, HDAB, auditor and output-checker roles wait for
/// a different admin. Nothing here shows project data.
/// </summary>
internal sealed class AccountsModel : PortalPageModel
{
    /// <summary>Every account, by name.</summary>
    public IReadOnlyList<UserView> Users { get; private set; } = [];

    /// <summary>The grants waiting for a second admin.</summary>
    public IReadOnlyList<RoleGrantView> PendingGrants { get; private set; } = [];

    /// <summary>The account just created, with its enrolment link (shown once).</summary>
    public CreatedUserView? Created { get; private set; }

    /// <summary>A new enrolment link just issued by this admin's approval (shown once).</summary>
    public EnrolmentLinkView? Enrolment { get; private set; }

    /// <summary>What the last change did.</summary>
    public string? Notice { get; private set; }

    /// <summary>Why the last change was refused.</summary>
    public string? FormError { get; private set; }

    /// <summary>The refused form's errors by field.</summary>
    public FieldErrors FieldErrors { get; private set; } = FieldErrors.None;

    /// <summary>The issuers of the configured external identity providers, for the mapping form's select.</summary>
    public IReadOnlyList<string> Issuers { get; private set; } = [];

    /// <summary>The account whose external-identity form was refused, with its errors shown at its inputs.</summary>
    public string? ExternalFor { get; private set; }

    /// <summary>The refused external-identity form's errors by field (<c>issuer</c>, <c>subject</c>).</summary>
    public FieldErrors ExternalErrors { get; private set; } = FieldErrors.None;

    /// <summary>The refused form's issuer and subject, to show them again.</summary>
    public (string? Issuer, string? Subject) ExternalValues { get; private set; }

    /// <summary>Shows the accounts.</summary>
    public Task<IActionResult> OnGetAsync() => ShowAsync();

    /// <summary>Creates an account with the roles ticked.</summary>
    public async Task<IActionResult> OnPostCreateAsync(string? username, string[]? roles)
    {
        var answer = await PostAsync<CreatedUserView>("/api/v1/admin/users", new CreateUserRequest((username ?? "").Trim(), roles ?? []));
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        Created = answer.Value;
        return await ShowAsync();
    }

    /// <summary>Disables or enables an account, or asks for a second-factor reset or a new enrolment link (both wait for a second admin).</summary>
    public async Task<IActionResult> OnPostAccountAsync(string? username, string? change)
    {
        if (string.IsNullOrWhiteSpace(username) || change is not ("disable" or "enable" or "reset-mfa" or "enrolment"))
        {
            return await RefusedAsync(PortalText.Get("AdminUnknownChange"), 400);
        }

        var path = $"/api/v1/admin/users/{Segment(username)}/{change}";
        if (change is "enrolment" or "reset-mfa")
        {
            // Note: a new link and a second-factor reset wait for a second admin; a new link goes to the approving admin only.
            var requested = await SendEmptyAsync<RoleChangeView>(HttpMethod.Post, path);
            if (!requested.Succeeded)
            {
                return await RefusedAsync(requested.Problem!);
            }

            Notice = PortalText.Format(change == "enrolment" ? "AdminEnrolmentPending" : "AdminMfaResetPending", username);
            return await ShowAsync();
        }

        var answer = await SendEmptyAsync<UserView>(HttpMethod.Post, path);
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        Notice = PortalText.Format(change == "disable" ? "AdminDisabledNotice" : "AdminEnabledNotice", username);
        return await ShowAsync();
    }

    /// <summary>Grants or revokes one role.</summary>
    public async Task<IActionResult> OnPostRoleAsync(string? username, string? role, string? change)
    {
        if (string.IsNullOrWhiteSpace(username) || string.IsNullOrWhiteSpace(role) || change is not ("grant" or "revoke"))
        {
            return await RefusedAsync(PortalText.Get("AdminUnknownChange"), 400);
        }

        var path = $"/api/v1/admin/users/{Segment(username)}/roles/{Segment(role)}";
        var answer = await SendEmptyAsync<RoleChangeView>(change == "grant" ? HttpMethod.Put : HttpMethod.Delete, path);
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        Notice = answer.Value?.Status switch
        {
            "pending-approval" => PortalText.Format("AdminRolePending", role, username),
            "revoked" => PortalText.Format("AdminRoleRevoked", role, username),
            _ => PortalText.Format("AdminRoleGranted", role, username),
        };
        return await ShowAsync();
    }

    /// <summary>Approves a pending grant (a different admin from the one who asked, and not the grantee).</summary>
    public async Task<IActionResult> OnPostApproveAsync(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return await RefusedAsync(PortalText.Get("AdminUnknownChange"), 400);
        }

        var answer = await SendEmptyAsync<RoleChangeView>(HttpMethod.Post, $"/api/v1/admin/role-grants/{Segment(id)}/approve");
        if (!answer.Succeeded)
        {
            return await RefusedAsync(answer.Problem!);
        }

        // Note: the approval of a new enrolment link answers with the link, shown once here to the approving admin.
        Enrolment = answer.Value?.Enrolment;
        Notice = PortalText.Get(Enrolment is not null ? "AdminEnrolmentApproved" : answer.Value?.Status switch
        {
            "approved" => "AdminExternalApproved",
            "factor-removed" => "AdminMfaResetApproved",
            _ => "AdminGrantApproved",
        });
        return await ShowAsync();
    }

    /// <summary>Maps an external identity (issuer, subject) to an account, or removes one mapping.</summary>
    public async Task<IActionResult> OnPostExternalAsync(string? username, string? issuer, string? subject, string? change)
    {
        if (string.IsNullOrWhiteSpace(username) || change is not ("map" or "unmap"))
        {
            return await RefusedAsync(PortalText.Get("AdminUnknownChange"), 400);
        }

        var path = $"/api/v1/admin/users/{Segment(username)}/external-identities";
        // Note: a mapping waits for a second admin (it is a credential: the provider's tokens for it act as the account), so the
        // map answer is the request to approve; a removal takes effect at once.
        var answer = change == "map"
            ? (await PostAsync<RoleChangeView>(path, new ExternalIdentityRequest((issuer ?? "").Trim(), (subject ?? "").Trim()))).Problem
            : (await DeleteAsync<UserView>(QueryHelpers.AddQueryString(path, new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["issuer"] = issuer ?? "",
                ["subject"] = subject ?? "",
            }))).Problem;
        if (answer is not null)
        {
            var problem = answer;
            if (change == "map" && problem.Status == 400 && problem.Errors.Count > 0)
            {
                // Note: the API's field errors are shown at the inputs of the account's own form, with what was typed.
                (ExternalFor, ExternalErrors, ExternalValues) = (username, problem.ByField(), (issuer, subject));
                return await RefusedAsync(PortalText.Get("AdminExternalRefused"), 400);
            }

            return await RefusedAsync(problem);
        }

        Notice = PortalText.Format(change == "map" ? "AdminExternalPending" : "AdminExternalUnmapped", subject, issuer, username);
        return await ShowAsync();
    }

    private async Task<IActionResult> RefusedAsync(ApiProblem problem)
    {
        // Note: a refusal of the change (a name taken, a forbidden pair of roles, your own account, a grant you asked for:
        // 400, 403, 404, 409) is shown above the list when the list itself is the person's to see; for anyone else the
        // list's own refusal (403 for a non-admin) replaces the page, and a signed-out session is shown as such.
        if (problem.Status is 401 or >= 500)
        {
            return ShowProblem(problem);
        }

        FieldErrors = new FieldErrors(problem.Errors);
        return await RefusedAsync(problem.Detail ?? problem.Sentence(), problem.Status);
    }

    private async Task<IActionResult> RefusedAsync(string sentence, int status)
    {
        var shown = await ShowAsync();
        if (Problem is null)
        {
            FormError = sentence;
            Response.StatusCode = status;
        }

        return shown;
    }

    private async Task<IActionResult> ShowAsync()
    {
        Title = PortalText.Get("NavAccounts");
        var users = await GetAsync<List<UserView>>("/api/v1/admin/users");
        if (!users.Succeeded)
        {
            return ShowProblem(users.Problem!);
        }

        var grants = await GetAsync<List<RoleGrantView>>("/api/v1/admin/role-grants");
        if (!grants.Succeeded)
        {
            return ShowProblem(grants.Problem!);
        }

        Users = users.Value!;
        PendingGrants = grants.Value!;
        // Note: the providers' issuers are the server's configuration, not anybody's data; the page offers them so an admin picks
        // one the API accepts (it refuses any other issuer itself).
        Issuers = HttpContext.RequestServices.GetRequiredService<ExternalIdentityOptions>().Providers.Select(p => p.Issuer).ToList();
        return Page();
    }
}
