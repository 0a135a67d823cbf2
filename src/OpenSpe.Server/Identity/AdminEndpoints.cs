using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Identity;

/// <summary>
/// Account administration for the <c>admin</c> role, with separation of duties (SDR-2, OPR-2):
/// nobody changes their own roles, state or second factor; no account holds two roles the
/// separation-of-duties table forbids together; every privileged grant waits for a second admin;
/// no admin ever learns a working credential of another person; nothing here returns project data.
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>Maps <c>/api/v1/admin</c>.</summary>
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(SpePolicies.Admin).WithMetadata(new AuditResourceAttribute("account"))
            .ProducesSignedInProblems();
        group.MapGet("/users", ListAsync).WithName("admin.users.list").WithSummary("All accounts with their roles and state.");
        group.MapPost("/users", CreateAsync).WithName("admin.users.create").Validate<CreateUserRequest>().ProducesProblems(409)
            .WithSummary("Creates an account without a password and returns its one-time enrolment link, to hand to the person out of band: they set their own password and enrol a second factor. Privileged roles wait for a second admin.");
        group.MapPost("/users/{username}/enrolment", ReissueEnrolmentAsync).WithName("admin.users.enrolment").ProducesProblems(404, 409)
            .WithSummary("Asks for a new one-time enrolment link (not for yourself); a second admin approves it and receives the link: then the password and second factor are removed and every session ends.");
        group.MapPost("/users/{username}/disable", (string username, HttpContext c, AdminContext a) => SetDisabledAsync(username, true, c, a))
            .WithName("admin.users.disable").ProducesProblems(404, 409).WithSummary("Disables an account (not your own).");
        group.MapPost("/users/{username}/enable", (string username, HttpContext c, AdminContext a) => SetDisabledAsync(username, false, c, a))
            .WithName("admin.users.enable").ProducesProblems(404, 409).WithSummary("Enables an account (not your own).");
        group.MapPost("/users/{username}/reset-mfa", ResetMfaAsync).WithName("admin.users.reset-mfa").ProducesProblems(404, 409)
            .WithSummary("Asks to remove an account's second factor (not your own). A second admin approves it (role 'mfa-reset'); only then is the factor "
                + "removed, every session ended, and the account can only enrol again.");
        group.MapPut("/users/{username}/roles/{role}", GrantAsync).WithName("admin.roles.grant").ProducesProblems(404, 409)
            .WithSummary("Grants a role (not to yourself, never one the separation-of-duties table forbids with the roles held); admin, operator, hdab, auditor and output-checker wait for a second admin's approval.");
        group.MapDelete("/users/{username}/roles/{role}", RevokeAsync).WithName("admin.roles.revoke").ProducesProblems(404, 409).WithSummary("Revokes a role (not your own).");
        group.MapGet("/role-grants", ListGrantsAsync).WithName("admin.role-grants.list")
            .WithSummary("Changes waiting for a second admin: high-privilege grants, new enrolment links (role 'enrolment'), external identities to map (role 'external-identity') and second-factor resets (role 'mfa-reset').");
        group.MapPost("/role-grants/{id}/approve", ApproveAsync).WithName("admin.role-grants.approve").ProducesProblems(404, 409)
            .WithSummary("Approves a pending grant, new enrolment link, external identity's mapping or second-factor reset: a different admin from the one who asked, and not the account's own "
                + "person, while the one who asked is still an enabled admin. The approval of a new enrolment link answers with the link.");
        group.MapPost("/clients", CreateClientAsync).WithName("admin.clients.create").Validate<CreateClientRequest>().ProducesProblems(409)
            .WithSummary("Registers an application (client credentials), a principal of its own that acts for nobody; the secret is shown once. It reaches a project only when the HDAB names it in a permit.");
        group.MapGet("/clients", ListClientsAsync).WithName("admin.clients.list").WithSummary("Registered applications and who registered them.");
        group.MapDelete("/clients/{clientId}", DeleteClientAsync).WithName("admin.clients.delete").ProducesProblems(404)
            .WithSummary("Deletes an application; its tokens stop working within a second.");
        group.MapPost("/users/{username}/external-identities", LinkExternalAsync).WithName("admin.external-identities.add").Validate<ExternalIdentityRequest>()
            .ProducesProblems(404, 409)
            .WithSummary("Asks to map an external identity (issuer, subject) to the account (not your own); the issuer must be one of the configured providers. "
                + "A second admin approves it (role 'external-identity'); only then do the provider's tokens for it act as the account.");
        group.MapDelete("/users/{username}/external-identities", UnlinkExternalAsync).WithName("admin.external-identities.remove").ProducesProblems(400, 404, 409)
            .WithSummary("Removes the mapping of an external identity (issuer and subject in the query) from the account (not your own): the provider's tokens for it stop working at once.");
        return routes;
    }

    private static async Task<Ok<List<UserView>>> ListAsync(AdminContext admin) =>
        TypedResults.Ok(await admin.ViewsAsync(await admin.Users.Users.OrderBy(u => u.UserName).ToListAsync()));

    private static async Task<Results<Created<CreatedUserView>, ValidationProblem, ProblemHttpResult>> CreateAsync(CreateUserRequest request, HttpContext context, AdminContext admin)
    {
        var unknown = request.Roles.Where(r => !SpeRoles.All.Contains(r)).ToList();
        if (unknown.Count > 0)
        {
            return Invalid("roles", $"Unknown roles: {string.Join(", ", unknown)}.");
        }

        if (SeparationOfDuties.Within(request.Roles) is { } conflict)
        {
            return AdminContext.SeparationOfDutiesRefusal(context, conflict);
        }

        // Note: the account gets no password: the person sets their own through the one-time enrolment link, so the admin never holds a working credential.
        var user = new SpeUser { UserName = request.Username, CreatedAt = admin.Time.GetUtcNow() };
        var link = admin.Enrolment.Issue(user);
        var created = await admin.Users.CreateAsync(user);
        if (!created.Succeeded)
        {
            return created.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName))
                ? Problem(409, "An account with this name already exists.")
                : Invalid("username", string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        var direct = request.Roles.Where(r => !SeparationOfDuties.NeedsApproval.Contains(r)).Distinct().ToList();
        if (direct.Count > 0 && !(await admin.Users.AddToRolesAsync(user, direct)).Succeeded)
        {
            // Note: the account exists but without the roles asked for; nothing is reported or audited as granted because it did not happen.
            return admin.Changed(context);
        }

        await admin.AuditAsync(context, "admin.users.created", user, new() { ["roles"] = string.Join(' ', direct), ["enrolmentExpires"] = link.ExpiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture) });
        var pending = new List<string>();
        foreach (var role in request.Roles.Where(SeparationOfDuties.NeedsApproval.Contains).Distinct())
        {
            if (await admin.RequestApprovalAsync(context, user, role) is null)
            {
                return admin.Changed(context);
            }

            pending.Add(role);
        }

        return TypedResults.Created($"/api/v1/admin/users/{user.UserName}", new CreatedUserView(user.UserName!, link.Url, link.ExpiresAt, direct, pending));
    }

    private static async Task<Results<Accepted<RoleChangeView>, ProblemHttpResult>> ReissueEnrolmentAsync(string username, HttpContext context, AdminContext admin)
    {
        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        // Note: whoever holds a new link sets the account's password and second factor, so a link issued by one admin alone would let
        // that admin take over any account, a second admin's or a permit's researcher, and defeat four eyes. So every new link waits for
        // a different admin, even for an account never activated, because that state is no proof: an account used only through an
        // external provider never has a password, and an approved link leaves the account without one again. Nothing changes until then.
        return await AwaitSecondAdminAsync(context, admin, user, AdminContext.EnrolmentChange);
    }

    private static async Task<Results<Ok<UserView>, ProblemHttpResult>> SetDisabledAsync(string username, bool disabled, HttpContext context, AdminContext admin)
    {
        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        user.Disabled = disabled;
        AdminContext.RenewSecurityStamp(user);
        if (!(await admin.Users.UpdateAsync(user)).Succeeded)
        {
            return admin.Changed(context);
        }

        await admin.AccountChangedAsync(user);
        await admin.AuditAsync(context, disabled ? "admin.users.disabled" : "admin.users.enabled", user);
        return TypedResults.Ok(await admin.ViewAsync(user));
    }

    private static async Task<Results<Accepted<RoleChangeView>, ProblemHttpResult>> ResetMfaAsync(string username, HttpContext context, AdminContext admin)
    {
        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        // Note: without its second factor an account is guarded by its password alone, and its next sign-in enrols a factor of the
        // signer's choosing: one admin alone, who has learnt or guessed a second admin's or a researcher's password, could take the
        // account over. So a reset waits for a different admin, as a new enrolment link does. Nothing changes until then.
        return await AwaitSecondAdminAsync(context, admin, user, AdminContext.MfaResetChange);
    }

    /// <summary>Files <paramref name="change"/> of <paramref name="user"/> for a second admin, or answers the one already pending.</summary>
    private static async Task<Results<Accepted<RoleChangeView>, ProblemHttpResult>> AwaitSecondAdminAsync(HttpContext context, AdminContext admin, SpeUser user, string change)
    {
        var existing = await admin.Database.RoleGrantRequests
            .Where(r => r.UserId == user.Id && r.Role == change && r.Status == "pending").Select(r => r.Id).FirstOrDefaultAsync();
        var id = existing ?? await admin.RequestApprovalAsync(context, user, change);
        return id is null
            ? admin.Changed(context)
            : TypedResults.Accepted($"/api/v1/admin/role-grants/{id}", new RoleChangeView("pending-approval", id));
    }

    private static async Task<Results<Ok<RoleChangeView>, ProblemHttpResult>> ApproveMfaResetAsync(RoleGrantRequestEntity request, SpeUser user, HttpContext context, AdminContext admin)
    {
        SignInService.ResetSecondFactor(user);
        // Note: every token and session that proved the old factor ends with it (within a second).
        AdminContext.RenewSecurityStamp(user);
        if (!(await admin.Users.UpdateAsync(user)).Succeeded)
        {
            return admin.Changed(context);
        }

        await admin.AccountChangedAsync(user);
        await admin.AuditAsync(context, "admin.users.mfa-reset", user, new() { ["approvalOf"] = request.Id, ["requestedBy"] = request.RequestedBy });
        return TypedResults.Ok(new RoleChangeView("factor-removed", request.Id));
    }

    private static async Task<Results<Ok<RoleChangeView>, Accepted<RoleChangeView>, ProblemHttpResult>> GrantAsync(string username, string role, HttpContext context, AdminContext admin)
    {
        if (!SpeRoles.All.Contains(role))
        {
            return Problem(404, $"There is no role '{role}'.");
        }

        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        var held = await admin.Users.GetRolesAsync(user);
        if (held.Contains(role))
        {
            return TypedResults.Ok(new RoleChangeView("granted", null));
        }

        if (SeparationOfDuties.Within([.. held, .. await admin.PendingRolesAsync(user), role]) is { } conflict)
        {
            return AdminContext.SeparationOfDutiesRefusal(context, conflict);
        }

        // Note: the check above and the change below are one decision: the change saves the account with a new concurrency stamp on the
        // condition that the stamp is still the one read before the check, so of two concurrent changes to one account (here, or on
        // another instance sharing the database) one fails and nothing of it is kept (409) because the other may have made the pair forbidden.
        if (SeparationOfDuties.NeedsApproval.Contains(role))
        {
            var id = await admin.RequestApprovalAsync(context, user, role);
            return id is null
                ? admin.Changed(context)
                : TypedResults.Accepted($"/api/v1/admin/role-grants/{id}", new RoleChangeView("pending-approval", id));
        }

        if (!(await admin.Users.AddToRoleAsync(user, role)).Succeeded)
        {
            return admin.Changed(context);
        }

        await admin.AuditAsync(context, "admin.roles.granted", user, new() { ["role"] = role });
        return TypedResults.Ok(new RoleChangeView("granted", null));
    }

    private static async Task<Results<Ok<RoleChangeView>, ProblemHttpResult>> RevokeAsync(string username, string role, HttpContext context, AdminContext admin)
    {
        // Note: the role is named exactly as a grant names it, because the store matches names regardless of case and the audit
        // record must say the role that went ('ADMIN' would revoke admin and be recorded as a role that does not exist).
        if (!SpeRoles.All.Contains(role))
        {
            return Problem(404, $"There is no role '{role}'.");
        }

        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        if (!await admin.Users.IsInRoleAsync(user, role))
        {
            return Problem(404, $"{username} does not hold '{role}'.");
        }

        // Note: the role and the security stamp (which ends the sessions that carried the role) change in one save, checked against the
        // account's concurrency stamp: a concurrent change makes it fail whole, and then nothing is answered or audited as revoked.
        AdminContext.RenewSecurityStamp(user);
        if (!(await admin.Users.RemoveFromRoleAsync(user, role)).Succeeded)
        {
            return admin.Changed(context);
        }

        await admin.AccountChangedAsync(user);
        await admin.AuditAsync(context, "admin.roles.revoked", user, new() { ["role"] = role });
        return TypedResults.Ok(new RoleChangeView("revoked", null));
    }

    private static async Task<Ok<List<RoleGrantView>>> ListGrantsAsync(AdminContext admin)
    {
        var pending = await admin.Database.RoleGrantRequests.Where(r => r.Status == "pending").ToListAsync();
        var views = new List<RoleGrantView>();
        foreach (var request in pending.OrderBy(r => r.RequestedAt))
        {
            var user = await admin.Users.FindByIdAsync(request.UserId);
            var requester = await admin.Users.FindByIdAsync(request.RequestedBy);
            if (requester is null || requester.Disabled || !await admin.Users.IsInRoleAsync(requester, SpeRoles.Admin))
            {
                // Note: not offered for approval: approving it would only withdraw it (409 SPE1101), because nobody in office still asks.
                continue;
            }

            var external = request.Role == AdminContext.ExternalIdentityChange ? await admin.PendingExternalIdentityAsync(request) : null;
            views.Add(new RoleGrantView(request.Id, user?.UserName ?? request.UserId, request.Role, requester?.UserName ?? request.RequestedBy, request.RequestedAt,
                external is { } e ? new ExternalIdentityView(e.Issuer, e.Subject) : null));
        }

        return TypedResults.Ok(views);
    }

    private static async Task<Results<Ok<RoleChangeView>, ProblemHttpResult>> ApproveAsync(string id, HttpContext context, AdminContext admin)
    {
        var request = await admin.Database.RoleGrantRequests.FirstOrDefaultAsync(r => r.Id == id && r.Status == "pending");
        if (request is null)
        {
            return Problem(404, "There is no pending grant with this id.");
        }

        var approver = context.User.FindFirst("sub")?.Value;
        if (approver == request.RequestedBy || approver == request.UserId)
        {
            // Note: four eyes: the admin who asked, or the person who would receive the role, cannot approve it (OPR-2).
            AuditDenialReason.Set(context, "separation-of-duties");
            return Problem(403, "A different admin must approve: not the one who asked and not the grantee.");
        }

        // Note: a request stands only while the admin who asked still is one: a request of an admin since disabled or demoted (perhaps
        // for the very reason that they abused the role) is withdrawn, not approved, because nothing expires a pending request and a
        // second admin approving it later would complete a change nobody in office still stands behind (OPR-2).
        var requester = await admin.Users.FindByIdAsync(request.RequestedBy);
        if (requester is null || requester.Disabled || !await admin.Users.IsInRoleAsync(requester, SpeRoles.Admin))
        {
            request.Status = "withdrawn";
            request.DecidedBy = approver;
            request.DecidedAt = admin.Time.GetUtcNow();
            await admin.Database.SaveChangesAsync(context.RequestAborted);
            AuditDenialReason.Set(context, "requester-no-longer-admin");
            return Problem(409, "The admin who asked for this change is no longer an enabled admin: the request is withdrawn. Ask for the change again if it is still needed.",
                ErrorCodes.RequesterNoLongerAdmin);
        }

        var user = await admin.Users.FindByIdAsync(request.UserId);
        if (user is null)
        {
            return Problem(404, "The account no longer exists.");
        }

        // Note: the request's approval is saved with the account's change in one save, checked against the account's concurrency stamp
        // read above (before the separation-of-duties check): two concurrent approvals, or an approval beside another change to the
        // account, cannot both succeed, and a failed one keeps nothing, not even the approval (409).
        if (request.Role is not (AdminContext.EnrolmentChange or AdminContext.ExternalIdentityChange or AdminContext.MfaResetChange) && SeparationOfDuties.Within([.. await admin.Users.GetRolesAsync(user), request.Role]) is { } conflict)
        {
            // Note: the table is checked again at approval: a conflicting role may have been granted since the request.
            return AdminContext.SeparationOfDutiesRefusal(context, conflict);
        }

        request.Status = "approved";
        request.DecidedBy = approver;
        request.DecidedAt = admin.Time.GetUtcNow();
        if (request.Role == AdminContext.EnrolmentChange)
        {
            return await ApproveEnrolmentAsync(request, user, context, admin);
        }

        if (request.Role == AdminContext.ExternalIdentityChange)
        {
            return await ApproveExternalIdentityAsync(request, user, context, admin);
        }

        if (request.Role == AdminContext.MfaResetChange)
        {
            return await ApproveMfaResetAsync(request, user, context, admin);
        }

        if (!(await admin.Users.AddToRoleAsync(user, request.Role)).Succeeded)
        {
            return admin.Changed(context);
        }

        await admin.AuditAsync(context, "admin.roles.granted", user, new() { ["role"] = request.Role, ["approvalOf"] = request.Id, ["highPrivilege"] = "true" });
        return TypedResults.Ok(new RoleChangeView("granted", request.Id));
    }

    private static async Task<Results<Ok<RoleChangeView>, ProblemHttpResult>> ApproveEnrolmentAsync(RoleGrantRequestEntity request, SpeUser user, HttpContext context, AdminContext admin)
    {
        // Note: a new link takes away the password and the second factor, and ends every session: whoever holds the link sets new ones.
        // It is issued only now, to the approving admin, because the admin who asked must never hold a link that works on their own word.
        var link = admin.Enrolment.Issue(user);
        SignInService.ResetSecondFactor(user);
        user.PasswordHash = null;
        AdminContext.RenewSecurityStamp(user);
        if (!(await admin.Users.UpdateAsync(user)).Succeeded)
        {
            return admin.Changed(context);
        }

        await admin.AccountChangedAsync(user);
        await admin.AuditAsync(context, "admin.users.enrolment-reissued", user, new()
        {
            ["enrolmentExpires"] = link.ExpiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["approvalOf"] = request.Id,
            ["requestedBy"] = request.RequestedBy,
        });
        return TypedResults.Ok(new RoleChangeView("approved", request.Id, new EnrolmentLinkView(user.UserName!, link.Url, link.ExpiresAt)));
    }

    private static async Task<Results<Ok<RoleChangeView>, ProblemHttpResult>> ApproveExternalIdentityAsync(RoleGrantRequestEntity request, SpeUser user, HttpContext context, AdminContext admin)
    {
        if (await admin.PendingExternalIdentityAsync(request) is not { } pending)
        {
            return Problem(404, "The external identity of this request is missing.");
        }

        if (await admin.Users.FindByLoginAsync(pending.Issuer, pending.Subject) is not null)
        {
            AuditDenialReason.Set(context, "external-identity-taken");
            return Problem(409, "This external identity has been mapped to an account since it was asked for; nothing was changed.");
        }

        // Note: the approval, the removal of the kept identity and the mapping are one save (AddLoginAsync saves the account, checked
        // against its concurrency stamp), so a concurrent change to the account keeps none of them (409).
        admin.Database.UserTokens.Remove(pending.Row);
        var added = await admin.Users.AddLoginAsync(user, new UserLoginInfo(pending.Issuer, pending.Subject, pending.Issuer));
        if (!added.Succeeded)
        {
            return admin.Changed(context);
        }

        await admin.AuditAsync(context, "admin.external-identities.added", user, new()
        {
            ["issuer"] = pending.Issuer,
            ["subject"] = pending.Subject,
            ["approvalOf"] = request.Id,
            ["requestedBy"] = request.RequestedBy,
        });
        return TypedResults.Ok(new RoleChangeView("approved", request.Id));
    }

    private static async Task<Results<Created<CreatedClientView>, ProblemHttpResult, ValidationProblem>> CreateClientAsync(CreateClientRequest request, HttpContext context, AdminContext admin, IdentitySeeder seeder, IOpenIddictApplicationManager applications)
    {
        if (await applications.FindByClientIdAsync(request.ClientId) is not null || request.ClientId is IdentitySeeder.CliClientId or IdentitySeeder.PortalClientId)
        {
            return Problem(409, "A client with this id already exists.");
        }

        // Note: an application is a principal of its own, bound to no person: it reaches a project only when the HDAB names it in a permit (FCR-7).
        var registeredBy = context.User.FindFirst("preferred_username")?.Value ?? context.User.FindFirst("sub")?.Value ?? "";
        var secret = await seeder.CreateApplicationAsync(request.ClientId, request.DisplayName, registeredBy, context.RequestAborted);
        await admin.AuditApplicationAsync(context, "admin.clients.created", request.ClientId, new() { ["registeredBy"] = registeredBy });
        return TypedResults.Created($"/api/v1/admin/clients/{request.ClientId}", new CreatedClientView(request.ClientId, secret, registeredBy));
    }

    private static async Task<Ok<List<ClientView>>> ListClientsAsync(IOpenIddictApplicationManager applications, CancellationToken cancellationToken)
    {
        var views = new List<ClientView>();
        await foreach (var application in applications.ListAsync(count: null, offset: null, cancellationToken))
        {
            if (await applications.HasClientTypeAsync(application, OpenIddictConstants.ClientTypes.Confidential, cancellationToken))
            {
                var properties = await applications.GetPropertiesAsync(application, cancellationToken);
                views.Add(new ClientView(
                    (await applications.GetClientIdAsync(application, cancellationToken))!,
                    await applications.GetDisplayNameAsync(application, cancellationToken),
                    properties.TryGetValue(IdentitySeeder.RegisteredByProperty, out var by) ? by.GetString() : null));
            }
        }

        return TypedResults.Ok(views.OrderBy(v => v.ClientId, StringComparer.Ordinal).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteClientAsync(string clientId, HttpContext context, AdminContext admin, IOpenIddictApplicationManager applications, ApplicationStateCache states)
    {
        var application = await applications.FindByClientIdAsync(clientId, context.RequestAborted);
        if (application is null || !await applications.HasClientTypeAsync(application, OpenIddictConstants.ClientTypes.Confidential, context.RequestAborted))
        {
            return Problem(404, $"There is no application '{clientId}'.");
        }

        await applications.DeleteAsync(application, context.RequestAborted);
        states.Invalidate(clientId);
        await admin.AuditApplicationAsync(context, "admin.clients.deleted", clientId, []);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<RoleChangeView>, ValidationProblem, ProblemHttpResult>> LinkExternalAsync(string username, ExternalIdentityRequest request, HttpContext context, AdminContext admin, ExternalIdentityOptions external)
    {
        if (!external.Providers.Any(p => string.Equals(p.Issuer, request.Issuer, StringComparison.Ordinal)))
        {
            // A mapping for an issuer nobody trusts would never apply; refuse it rather than store a silent no-op.
            return Invalid("issuer", "The issuer is not one of the configured external identity providers (ExternalIdentity:Providers).");
        }

        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        if (await admin.Users.FindByLoginAsync(request.Issuer, request.Subject) is not null)
        {
            return Problem(409, "This external identity is already mapped to an account.");
        }

        // Note: whoever signs in at the provider with a mapped identity acts as the account, with its roles and every permit that names
        // the account, so a mapping is a credential as a new enrolment link is: one admin alone could map an identity they hold at the
        // provider onto a second admin's account and approve their own grants as that admin, or onto a permit's researcher and reach the
        // data (SDR-2, OPR-2). So it waits for a different admin; the identity is kept with the request, in the account's token store
        // (saved with it), and becomes a mapping only on approval.
        var id = await admin.RequestApprovalAsync(context, user, AdminContext.ExternalIdentityChange, pending => admin.Database.UserTokens.Add(new IdentityUserToken<string>
        {
            UserId = user.Id,
            LoginProvider = AdminContext.PendingExternalIdentity,
            Name = pending.Id,
            Value = System.Text.Json.JsonSerializer.Serialize(new ExternalIdentityView(request.Issuer, request.Subject)),
        }), new() { ["issuer"] = request.Issuer, ["subject"] = request.Subject });
        return id is null
            ? admin.Changed(context)
            : TypedResults.Accepted($"/api/v1/admin/role-grants/{id}", new RoleChangeView("pending-approval", id));
    }

    private static async Task<Results<Ok<UserView>, ValidationProblem, ProblemHttpResult>> UnlinkExternalAsync(string username, string? issuer, string? subject, HttpContext context, AdminContext admin)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(issuer) || issuer.Length > 500)
        {
            errors["issuer"] = ["issuer is required, at most 500 characters."];
        }

        if (string.IsNullOrEmpty(subject) || subject.Length > 255)
        {
            errors["subject"] = ["subject is required, at most 255 characters."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid(errors, "Name the external identity to remove: its issuer and subject.");
        }

        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        // Note: only a mapping of this very account is removed: the pair must be one of its own logins, never another account's.
        var logins = await admin.Users.GetLoginsAsync(user);
        if (!logins.Any(l => string.Equals(l.LoginProvider, issuer, StringComparison.Ordinal) && string.Equals(l.ProviderKey, subject, StringComparison.Ordinal)))
        {
            return Problem(404, $"{username} has no external identity with this issuer and subject.");
        }

        var removed = await admin.Users.RemoveLoginAsync(user, issuer!, subject!);
        if (!removed.Succeeded)
        {
            return Problem(409, "The external identity could not be removed; read the account again and retry.");
        }

        // Note: tokens of the provider are mapped on every request (ExternalIdentity.MapToLocalAccountAsync), so they stop at
        // once; the cached account state and what runs for the person are judged again too.
        await admin.AccountChangedAsync(user);
        await admin.AuditAsync(context, "admin.external-identities.removed", user, new() { ["issuer"] = issuer!, ["subject"] = subject! });
        return TypedResults.Ok(await admin.ViewAsync(user));
    }

    private static ValidationProblem Invalid(string field, string message) => Problems.Invalid(field, message);

    internal static ProblemHttpResult Problem(int status, string detail, string? code = null) => Problems.Of(status, detail, code);
}

/// <summary>What admin handlers share: the account store, the database, the clock and the audit log.</summary>
internal sealed class AdminContext(UserManager<SpeUser> users, SpeDbContext database, TimeProvider time, IAuditLog audit, EnrolmentLinks enrolment, AccountStateCache accountStates,
    IEnumerable<IAccountChangeHook> changeHooks)
{
    /// <summary>Accounts.</summary>
    public UserManager<SpeUser> Users { get; } = users;

    /// <summary>One-time enrolment links.</summary>
    public EnrolmentLinks Enrolment { get; } = enrolment;

    /// <summary>The cached account states that token validation reads; invalidated here on every change.</summary>
    public AccountStateCache AccountStates { get; } = accountStates;

    /// <summary>
    /// After a change that may end the account's access (disabled, role revoked, second factor reset, new enrolment link): the
    /// cached state that token validation reads is dropped, and what runs for the person (jobs) is judged again at once.
    /// </summary>
    public async Task AccountChangedAsync(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        AccountStates.Invalidate(user.Id);
        foreach (var hook in changeHooks)
        {
            await hook.OnAccountChangedAsync(user.Id, CancellationToken.None);
        }
    }

    /// <summary>What a pending request holds in place of a role when it asks for a new enrolment link (no role has this name).</summary>
    public const string EnrolmentChange = "enrolment";

    /// <summary>What a pending request holds in place of a role when it asks to map an external identity (no role has this name).</summary>
    public const string ExternalIdentityChange = "external-identity";

    /// <summary>What a pending request holds in place of a role when it asks to remove the account's second factor (no role has this name).</summary>
    public const string MfaResetChange = "mfa-reset";

    /// <summary>The token store's provider name under which an external identity waiting for approval is kept (its name is the request's id).</summary>
    public const string PendingExternalIdentity = "OpenSpe:pending-external-identity";

    /// <summary>Roles of <paramref name="user"/> still waiting for approval (not a new enrolment link, an external identity or a second-factor reset waiting).</summary>
    public async Task<List<string>> PendingRolesAsync(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return await Database.RoleGrantRequests.Where(r => r.UserId == user.Id && r.Status == "pending" && r.Role != EnrolmentChange && r.Role != ExternalIdentityChange && r.Role != MfaResetChange)
            .Select(r => r.Role).ToListAsync();
    }

    /// <summary>The external identity a pending mapping request would map, with its stored row; null when it is missing.</summary>
    public async Task<(string Issuer, string Subject, IdentityUserToken<string> Row)?> PendingExternalIdentityAsync(RoleGrantRequestEntity request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var row = await Database.UserTokens.FirstOrDefaultAsync(t => t.UserId == request.UserId && t.LoginProvider == PendingExternalIdentity && t.Name == request.Id);
        return row?.Value is { } value && System.Text.Json.JsonSerializer.Deserialize<ExternalIdentityView>(value) is { } identity
            ? (identity.Issuer, identity.Subject, row)
            : null;
    }

    /// <summary>
    /// A new security stamp, saved with the change that needs it: tokens carry its digest, so every session of the account ends within a
    /// second. Set on the entity rather than with <c>UserManager.UpdateSecurityStampAsync</c> so the change and the stamp are one save.
    /// </summary>
    public static void RenewSecurityStamp(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.SecurityStamp = Convert.ToHexString(RandomNumberGenerator.GetBytes(20));
    }

    /// <summary>
    /// The 409 answer when the account's save failed (Identity's concurrency failure: another admin changed the account since it was read,
    /// here or on another instance): nothing of the change was kept, and nothing is reported or audited as done.
    /// </summary>
    public ProblemHttpResult Changed(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        AuditDenialReason.Set(context, "concurrent-change");
        // Note: the failed save's entities stay tracked in this request's context; they are dropped so nothing later saves them by accident.
        Database.ChangeTracker.Clear();
        return AdminEndpoints.Problem(409, "The account changed while this ran (another change at the same time); nothing was changed. Read it again and retry.",
            ErrorCodes.AccountChanged);
    }

    /// <summary>The 403 answer to a change the separation-of-duties table forbids.</summary>
    public static ProblemHttpResult SeparationOfDutiesRefusal(HttpContext context, RoleConflict conflict)
    {
        ArgumentNullException.ThrowIfNull(conflict);
        AuditDenialReason.Set(context, "separation-of-duties");
        return AdminEndpoints.Problem(403, conflict.Describe());
    }

    /// <summary>Database.</summary>
    public SpeDbContext Database { get; } = database;

    /// <summary>Clock.</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>Finds the target account, refusing the caller's own (separation of duties).</summary>
    public async Task<(SpeUser? User, ProblemHttpResult? Refusal)> TargetAsync(HttpContext context, string username)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = await Users.FindByNameAsync(username);
        if (user is null)
        {
            return (null, AdminEndpoints.Problem(404, $"There is no account '{username}'."));
        }

        if (user.Id == context.User.FindFirst("sub")?.Value)
        {
            // Note: nobody changes their own roles, state or factors, so no admin can grant themselves anything (SDR-2).
            AuditDenialReason.Set(context, "separation-of-duties");
            return (null, AdminEndpoints.Problem(403, "You cannot change your own account here: ask another admin."));
        }

        return (user, null);
    }

    /// <summary>
    /// Records a privileged grant request (or a new enrolment link's, <see cref="EnrolmentChange"/>) for a second admin and raises a
    /// security alert; returns its id, or null when the account changed since it was read (nothing was recorded).
    /// </summary>
    public async Task<string?> RequestApprovalAsync(HttpContext context, SpeUser user, string role, Action<RoleGrantRequestEntity>? alongside = null,
        Dictionary<string, string>? details = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(user);
        var request = new RoleGrantRequestEntity
        {
            Id = Guid.NewGuid().ToString("N"),
            UserId = user.Id,
            Role = role,
            RequestedBy = context.User.FindFirst("sub")?.Value ?? "",
            RequestedAt = Time.GetUtcNow(),
        };
        Database.RoleGrantRequests.Add(request);
        alongside?.Invoke(request);
        // Note: the request is saved with the account itself, whose concurrency stamp changes on the condition that it is still the one
        // read before the separation-of-duties check (a conditional UPDATE, so it holds across instances sharing PostgreSQL): of two
        // concurrent requests for one account, one fails whole, so a pair the table forbids is never pending together.
        if (!(await Users.UpdateAsync(user)).Succeeded)
        {
            return null;
        }

        var (action, kind) = role switch
        {
            EnrolmentChange => ("admin.users.enrolment-requested", "enrolment-link-requested"),
            ExternalIdentityChange => ("admin.external-identities.requested", "external-identity-requested"),
            MfaResetChange => ("admin.users.mfa-reset-requested", "mfa-reset-requested"),
            _ => ("admin.roles.grant-requested", "high-privilege-grant-requested"),
        };
        var requested = new Dictionary<string, string>(details ?? new Dictionary<string, string>(), StringComparer.Ordinal) { ["role"] = role, ["approvalId"] = request.Id };
        await AuditAsync(context, action, user, requested);
        await AuditAsync(context, "security.alert", user, new Dictionary<string, string>(requested, StringComparer.Ordinal) { ["kind"] = kind });
        return request.Id;
    }

    /// <summary>Appends an audit record naming the admin as actor and the account as resource.</summary>
    public Task<long> AuditAsync(HttpContext context, string action, SpeUser target, Dictionary<string, string>? details = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(target);
        var details2 = details ?? [];
        details2["target"] = target.UserName ?? target.Id;
        return audit.AppendAsync(new AuditEntry(
            AuditActors.From(context.User, context),
            action, new AuditResource("account", target.Id, null), AuditOutcome.Success, null, TraceIds.Current(context), details2));
    }

    /// <summary>Appends an audit record naming the admin as actor and an application as resource.</summary>
    public Task<long> AuditApplicationAsync(HttpContext context, string action, string clientId, Dictionary<string, string> details)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(details);
        details["clientId"] = clientId;
        return audit.AppendAsync(new AuditEntry(
            AuditActors.From(context.User, context),
            action, new AuditResource("application", clientId, null), AuditOutcome.Success, null, TraceIds.Current(context), details));
    }

    /// <summary>The admin view of an account.</summary>
    public async Task<UserView> ViewAsync(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var external = (await Users.GetLoginsAsync(user)).Select(l => new ExternalIdentityView(l.LoginProvider, l.ProviderKey))
            .OrderBy(e => e.Issuer, StringComparer.Ordinal).ThenBy(e => e.Subject, StringComparer.Ordinal).ToArray();
        return new UserView(user.UserName!, (await Users.GetRolesAsync(user)).Order(StringComparer.Ordinal).ToArray(), user.Disabled, user.MfaEnrolled, external);
    }

    /// <summary>Views of several accounts.</summary>
    public async Task<List<UserView>> ViewsAsync(IEnumerable<SpeUser> users)
    {
        var views = new List<UserView>();
        foreach (var user in users)
        {
            views.Add(await ViewAsync(user));
        }

        return views;
    }
}
