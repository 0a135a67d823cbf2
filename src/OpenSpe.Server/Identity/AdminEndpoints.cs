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
using OpenSpe.Server.Api;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Identity;

/// <summary>
/// Account administration for the <c>admin</c> role, with separation of duties (SDR-2, OPR-2):
/// nobody changes their own roles, state or second factor; <c>admin</c> and <c>operator</c>
/// grants wait for a second admin; nothing here returns project data.
/// </summary>
public static class AdminEndpoints
{
    /// <summary>Maps <c>/api/v1/admin</c>.</summary>
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(SpePolicies.Admin).WithMetadata(new AuditResourceAttribute("account"));
        group.MapGet("/users", ListAsync).WithName("admin.users.list").WithSummary("All accounts with their roles and state.");
        group.MapPost("/users", CreateAsync).WithName("admin.users.create").Validate<CreateUserRequest>()
            .WithSummary("Creates an account with a one-time initial password; it must enrol a second factor at first sign-in.");
        group.MapPost("/users/{username}/disable", (string username, HttpContext c, AdminContext a) => SetDisabledAsync(username, true, c, a))
            .WithName("admin.users.disable").WithSummary("Disables an account (not your own).");
        group.MapPost("/users/{username}/enable", (string username, HttpContext c, AdminContext a) => SetDisabledAsync(username, false, c, a))
            .WithName("admin.users.enable").WithSummary("Enables an account (not your own).");
        group.MapPost("/users/{username}/reset-mfa", ResetMfaAsync).WithName("admin.users.reset-mfa")
            .WithSummary("Removes an account's second factor (not your own): it can then only enrol again.");
        group.MapPut("/users/{username}/roles/{role}", GrantAsync).WithName("admin.roles.grant")
            .WithSummary("Grants a role (not to yourself); admin and operator wait for a second admin's approval.");
        group.MapDelete("/users/{username}/roles/{role}", RevokeAsync).WithName("admin.roles.revoke").WithSummary("Revokes a role (not your own).");
        group.MapGet("/role-grants", ListGrantsAsync).WithName("admin.role-grants.list").WithSummary("Pending high-privilege grants.");
        group.MapPost("/role-grants/{id}/approve", ApproveAsync).WithName("admin.role-grants.approve")
            .WithSummary("Approves a pending grant: a different admin from the one who asked, and not the grantee.");
        group.MapPost("/clients", CreateClientAsync).WithName("admin.clients.create").Validate<CreateClientRequest>()
            .WithSummary("Creates a client-credentials application bound to one account; the secret is shown once.");
        group.MapPost("/users/{username}/external-identities", LinkExternalAsync).WithName("admin.external-identities.add").Validate<ExternalIdentityRequest>()
            .WithSummary("Maps an external identity (issuer, subject) to the account.");
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

        var password = RandomNumberGenerator.GetString("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", 20);
        var user = new SpeUser { UserName = request.Username, CreatedAt = admin.Time.GetUtcNow(), LockoutEnabled = true };
        var created = await admin.Users.CreateAsync(user, password);
        if (!created.Succeeded)
        {
            return created.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.DuplicateUserName))
                ? Problem(409, "An account with this name already exists.")
                : Invalid("username", string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        var direct = request.Roles.Where(r => !SpeRoles.HighPrivilege.Contains(r)).Distinct().ToList();
        await admin.Users.AddToRolesAsync(user, direct);
        await admin.AuditAsync(context, "admin.users.created", user, new() { ["roles"] = string.Join(' ', direct) });
        foreach (var role in request.Roles.Where(SpeRoles.HighPrivilege.Contains).Distinct())
        {
            await admin.RequestHighPrivilegeAsync(context, user, role);
        }

        return TypedResults.Created($"/api/v1/admin/users/{user.UserName}", new CreatedUserView(user.UserName!, password));
    }

    private static async Task<Results<Ok<UserView>, ProblemHttpResult>> SetDisabledAsync(string username, bool disabled, HttpContext context, AdminContext admin)
    {
        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        user.Disabled = disabled;
        await admin.Users.UpdateAsync(user);
        await admin.Users.UpdateSecurityStampAsync(user);
        await admin.AuditAsync(context, disabled ? "admin.users.disabled" : "admin.users.enabled", user);
        return TypedResults.Ok(await admin.ViewAsync(user));
    }

    private static async Task<Results<Ok<UserView>, ProblemHttpResult>> ResetMfaAsync(string username, HttpContext context, AdminContext admin)
    {
        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        SignInService.ResetSecondFactor(user);
        await admin.Users.UpdateAsync(user);
        await admin.AuditAsync(context, "admin.users.mfa-reset", user);
        return TypedResults.Ok(await admin.ViewAsync(user));
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

        if (SpeRoles.HighPrivilege.Contains(role))
        {
            var id = await admin.RequestHighPrivilegeAsync(context, user, role);
            return TypedResults.Accepted($"/api/v1/admin/role-grants/{id}", new RoleChangeView("pending-approval", id));
        }

        await admin.Users.AddToRoleAsync(user, role);
        await admin.AuditAsync(context, "admin.roles.granted", user, new() { ["role"] = role });
        return TypedResults.Ok(new RoleChangeView("granted", null));
    }

    private static async Task<Results<Ok<RoleChangeView>, ProblemHttpResult>> RevokeAsync(string username, string role, HttpContext context, AdminContext admin)
    {
        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        if (!await admin.Users.IsInRoleAsync(user, role))
        {
            return Problem(404, $"{username} does not hold '{role}'.");
        }

        await admin.Users.RemoveFromRoleAsync(user, role);
        await admin.Users.UpdateSecurityStampAsync(user);
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
            views.Add(new RoleGrantView(request.Id, user?.UserName ?? request.UserId, request.Role, requester?.UserName ?? request.RequestedBy, request.RequestedAt));
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

        var user = await admin.Users.FindByIdAsync(request.UserId);
        if (user is null)
        {
            return Problem(404, "The account no longer exists.");
        }

        request.Status = "approved";
        request.DecidedBy = approver;
        request.DecidedAt = admin.Time.GetUtcNow();
        await admin.Database.SaveChangesAsync();
        await admin.Users.AddToRoleAsync(user, request.Role);
        await admin.AuditAsync(context, "admin.roles.granted", user, new() { ["role"] = request.Role, ["approvalOf"] = request.Id, ["highPrivilege"] = "true" });
        return TypedResults.Ok(new RoleChangeView("granted", request.Id));
    }

    private static async Task<Results<Created<CreatedClientView>, ProblemHttpResult, ValidationProblem>> CreateClientAsync(CreateClientRequest request, HttpContext context, AdminContext admin, IdentitySeeder seeder, IOpenIddictApplicationManager applications)
    {
        var account = await admin.Users.FindByNameAsync(request.Account);
        if (account is null)
        {
            return Invalid("account", "No such account.");
        }

        if ((await admin.Users.GetRolesAsync(account)).Any(SpeRoles.HighPrivilege.Contains))
        {
            return Problem(403, "A client cannot act for an admin or operator account.");
        }

        if (await applications.FindByClientIdAsync(request.ClientId) is not null || request.ClientId is IdentitySeeder.CliClientId or IdentitySeeder.PortalClientId)
        {
            return Problem(409, "A client with this id already exists.");
        }

        var secret = await seeder.CreateClientAsync(request.ClientId, account, context.RequestAborted);
        await admin.AuditAsync(context, "admin.clients.created", account, new() { ["clientId"] = request.ClientId });
        return TypedResults.Created($"/api/v1/admin/clients/{request.ClientId}", new CreatedClientView(request.ClientId, secret, account.UserName!));
    }

    private static async Task<Results<Ok<UserView>, ProblemHttpResult>> LinkExternalAsync(string username, ExternalIdentityRequest request, HttpContext context, AdminContext admin, ExternalIdentityOptions external)
    {
        if (!external.Providers.Any(p => string.Equals(p.Issuer, request.Issuer, StringComparison.Ordinal)))
        {
            // A mapping for an issuer nobody trusts would never apply; refuse it rather than store a silent no-op.
            return Problem(400, "The issuer is not one of the configured external identity providers (ExternalIdentity:Providers).");
        }

        var (user, refusal) = await admin.TargetAsync(context, username);
        if (user is null)
        {
            return refusal!;
        }

        var added = await admin.Users.AddLoginAsync(user, new UserLoginInfo(request.Issuer, request.Subject, request.Issuer));
        if (!added.Succeeded)
        {
            return Problem(409, "This external identity is already mapped to an account.");
        }

        await admin.AuditAsync(context, "admin.external-identities.added", user, new() { ["issuer"] = request.Issuer, ["subject"] = request.Subject });
        return TypedResults.Ok(await admin.ViewAsync(user));
    }

    private static ValidationProblem Invalid(string field, string message) => Problems.Invalid(field, message);

    internal static ProblemHttpResult Problem(int status, string detail) => Problems.Of(status, detail);
}

/// <summary>What admin handlers share: the account store, the database, the clock and the audit log.</summary>
public sealed class AdminContext(UserManager<SpeUser> users, SpeDbContext database, TimeProvider time, IAuditLog audit)
{
    /// <summary>Accounts.</summary>
    public UserManager<SpeUser> Users { get; } = users;

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

    /// <summary>Records a high-privilege grant request and raises a security alert; returns its id.</summary>
    public async Task<string> RequestHighPrivilegeAsync(HttpContext context, SpeUser user, string role)
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
        await Database.SaveChangesAsync();
        await AuditAsync(context, "admin.roles.grant-requested", user, new() { ["role"] = role, ["approvalId"] = request.Id });
        await AuditAsync(context, "security.alert", user, new() { ["kind"] = "high-privilege-grant-requested", ["role"] = role, ["approvalId"] = request.Id });
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

    /// <summary>The admin view of an account.</summary>
    public async Task<UserView> ViewAsync(SpeUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new UserView(user.UserName!, (await Users.GetRolesAsync(user)).Order(StringComparer.Ordinal).ToArray(), user.Disabled, user.MfaEnrolled);
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

/// <summary>An account as admins see it.</summary>
public sealed record UserView(string Username, IReadOnlyList<string> Roles, bool Disabled, bool MfaEnrolled);

/// <summary>A new account and its one-time initial password.</summary>
public sealed record CreatedUserView(string Username, string InitialPassword);

/// <summary>The result of a role change.</summary>
public sealed record RoleChangeView(string Status, string? ApprovalId);

/// <summary>A pending high-privilege grant.</summary>
public sealed record RoleGrantView(string Id, string Username, string Role, string RequestedBy, DateTimeOffset RequestedAt);

/// <summary>A new client and its secret, shown once.</summary>
public sealed record CreatedClientView(string ClientId, string ClientSecret, string Account);

/// <summary>Creates an account.</summary>
public sealed record CreateUserRequest(
    [property: Required, StringLength(64, MinimumLength = 2), RegularExpression("^[a-z0-9][a-z0-9._-]*$", ErrorMessage = "username: lower-case letters, digits, '.', '_' and '-'.")] string Username,
    [property: Required, MaxLength(7)] IReadOnlyList<string> Roles);

/// <summary>Creates a client bound to an account.</summary>
public sealed record CreateClientRequest(
    [property: Required, StringLength(64, MinimumLength = 3), RegularExpression("^[a-z0-9][a-z0-9._-]*$", ErrorMessage = "clientId: lower-case letters, digits, '.', '_' and '-'.")] string ClientId,
    [property: Required, StringLength(64)] string Account);

/// <summary>Maps an external identity to an account.</summary>
public sealed record ExternalIdentityRequest(
    [property: Required, Url, StringLength(500)] string Issuer,
    [property: Required, StringLength(255, MinimumLength = 1)] string Subject);
