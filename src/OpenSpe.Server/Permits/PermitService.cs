using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Core.Audit;
using OpenSpe.Core.Identity;
using OpenSpe.Core.Permits;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Persistence;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Permits;

/// <summary>
/// A state change that the permit's current state does not allow where no caller could have asked for it (the service's own
/// transitions); a caller's request for one is a <see cref="PermitFailure"/> instead.
/// </summary>
internal sealed class PermitStateException(string message) : Exception(message);

/// <summary>
/// Issues, amends and moves permits through their states (EHDSR-1, EHDSR-3, EHDSR-10, OPR-5).
/// Every version and transition is audited; the project follows the permit.
/// </summary>
internal sealed class PermitService(
    SpeDbContext database,
    UserManager<SpeUser> users,
    IProjectKeyStore keys,
    IProjectDataEraser eraser,
    PermitSigningKey signingKey,
    IOptions<PermitOptions> options,
    IOptions<Identity.TokenOptions> tokens,
    IEnumerable<IProjectTerminationHook> terminationHooks,
    IEnumerable<IPermitChangeHook> changeHooks,
    IEnumerable<IProjectErasureHook> erasureHooks,
    OpenIddict.Abstractions.IOpenIddictApplicationManager applications,
    PermitLifecycleSignal signal,
    ProjectAccessSource access,
    TimeProvider time,
    IAuditLog audit)
{
    /// <summary>Serializer for stored permit documents (camelCase, compact).</summary>
    public static readonly JsonSerializerOptions DocumentJson = new(JsonSerializerDefaults.Web);

    /// <summary>Issues a permit, creates its project and the project's key pair.</summary>
    public async Task<PermitResult> CreateAsync(PermitDocument document, ClaimsPrincipal actor, string? traceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (await ValidateAsync(document, actor) is { } invalid)
        {
            return PermitResult.Failed(invalid);
        }

        if (await database.Permits.AnyAsync(p => p.Reference == document.Reference, cancellationToken))
        {
            return PermitResult.Failed(PermitFailure.Invalid("reference", $"A permit with reference {document.Reference} already exists."));
        }

        var normalized = PermitDefaults.Normalize(document);
        var now = time.GetUtcNow();
        var id = "pmt-" + RandomNumberGenerator.GetHexString(20, lowercase: true);
        var permit = new PermitEntity
        {
            Id = id,
            ProjectId = "prj-" + RandomNumberGenerator.GetHexString(20, lowercase: true),
            Reference = normalized.Reference,
            Title = normalized.Title,
            State = PermitStates.Active,
            CurrentVersion = 1,
            ValidFrom = normalized.ValidFrom,
            ValidUntil = normalized.ValidUntil,
            CreatedAt = now,
            CreatedBy = Subject(actor),
            StateChangedAt = now,
            Revision = Guid.NewGuid(),
        };
        database.Permits.Add(permit);
        database.PermitVersions.Add(Version(permit, 1, normalized, actor, "issued"));
        await ReplaceMembersAsync(permit.Id, normalized, cancellationToken);
        // Note: the project's key pair exists before any holder can upload, and only wrapped (TIR-8): made before the permit's row,
        // so a permit never exists without its key. A save that fails destroys it again; one a crash interrupted is destroyed at
        // the next start (KeysWithoutPermit), so no key outlives a permit that was never issued, out of erasure's reach.
        await keys.CreateProjectKeyAsync(permit.ProjectId, cancellationToken);
        try
        {
            await database.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            await DestroyUnissuedKeyAsync(permit.ProjectId);
            database.ChangeTracker.Clear();
            if (DatabaseErrors.IsUniqueViolation(ex))
            {
                // Note: another issue of the same reference was saved first (the unique index decides): the same answer as when it
                // had been saved a moment earlier, so the HDAB reads one refusal for one cause, whatever the timing.
                return PermitResult.Failed(PermitFailure.Invalid("reference", $"A permit with reference {document.Reference} already exists."));
            }

            throw;
        }
        catch
        {
            await DestroyUnissuedKeyAsync(permit.ProjectId);
            throw;
        }

        await AuditAsync(actor, "permit.issued", permit, traceId, new() { ["reference"] = permit.Reference, ["version"] = "1" });
        await AuditAsync(actor, "project.created", permit, traceId, new() { ["permit"] = permit.Id });
        signal.Notify();
        return PermitResult.Done(permit);
    }

    /// <summary>Issues a new version of an active or suspended permit; the history is kept.</summary>
    public async Task<PermitResult> AmendAsync(string id, PermitDocument document, ClaimsPrincipal actor, string? traceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (await FindAsync(id, cancellationToken) is not { } permit)
        {
            return PermitResult.Failed(PermitFailure.NotFound);
        }

        if (!PermitLifecycle.CanAmend(permit.State))
        {
            return PermitResult.Failed(PermitFailure.State($"A {permit.State} permit cannot be amended."));
        }

        if (!string.Equals(document.Reference, permit.Reference, StringComparison.Ordinal))
        {
            return PermitResult.Failed(PermitFailure.Invalid("reference", "An amendment keeps the permit's reference."));
        }

        if (await ValidateAsync(document, actor) is { } invalid)
        {
            return PermitResult.Failed(invalid);
        }
        var normalized = PermitDefaults.Normalize(document);
        var previous = await CurrentDocumentAsync(permit, cancellationToken);
        var accountIds = await access.AccountIdsAsync(
            previous.DataUsers.Concat(normalized.DataUsers).Select(u => u.Account).OfType<string>().Distinct(StringComparer.Ordinal).ToList(), cancellationToken);
        var summary = DescribeChanges(previous, normalized, accountIds);
        permit.CurrentVersion++;
        permit.Title = normalized.Title;
        permit.ValidFrom = normalized.ValidFrom;
        permit.ValidUntil = normalized.ValidUntil;
        permit.Revision = Guid.NewGuid();
        database.PermitVersions.Add(Version(permit, permit.CurrentVersion, normalized, actor, summary));
        await ReplaceMembersAsync(permit.Id, normalized, cancellationToken);
        if (await SaveOrConflictAsync(cancellationToken) is { } conflict)
        {
            return PermitResult.Failed(conflict);
        }

        await AuditAsync(actor, "permit.amended", permit, traceId, new() { ["version"] = permit.CurrentVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), ["changes"] = summary });
        signal.Notify();
        await NotifyChangedAsync(permit.ProjectId, cancellationToken);
        return PermitResult.Done(permit);
    }

    /// <summary>Suspends an active permit (access stops at once; it can be resumed).</summary>
    public Task<PermitResult> SuspendAsync(string id, string reason, ClaimsPrincipal actor, string? traceId, CancellationToken cancellationToken) =>
        TransitionAsync(id, PermitChange.Suspend, "permit.suspended", reason, actor, traceId, cancellationToken);

    /// <summary>Resumes a suspended permit.</summary>
    public Task<PermitResult> ResumeAsync(string id, string? reason, ClaimsPrincipal actor, string? traceId, CancellationToken cancellationToken) =>
        TransitionAsync(id, PermitChange.Resume, "permit.resumed", reason, actor, traceId, cancellationToken);

    /// <summary>Revokes a permit; its project is terminated at once.</summary>
    public async Task<PermitResult> RevokeAsync(string id, string reason, ClaimsPrincipal actor, string? traceId, CancellationToken cancellationToken)
    {
        var result = await TransitionAsync(id, PermitChange.Revoke, "permit.revoked", reason, actor, traceId, cancellationToken);
        if (result.Permit is { } permit)
        {
            await TerminateAsync(permit, "revoked", traceId, cancellationToken);
        }

        return result;
    }

    /// <summary>Expires permits past their validity and erases terminated projects past the grace period. Returns how many changed.</summary>
    public async Task<int> ProcessDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var changed = 0;
        var live = await database.Permits.Where(p => p.State == PermitStates.Active || p.State == PermitStates.Suspended).ToListAsync(cancellationToken);
        foreach (var permit in live.Where(p => PermitLifecycle.IsExpiryDue(p.State, p.ValidUntil, now)))
        {
            permit.State = PermitLifecycle.TargetOf(PermitChange.Expire);
            permit.StateChangedAt = now;
            permit.StateReason = "validity ended";
            permit.Revision = Guid.NewGuid();
            await database.SaveChangesAsync(cancellationToken);
            await AuditAsync(null, "permit.expired", permit, null, new() { ["validUntil"] = permit.ValidUntil.ToString("O", System.Globalization.CultureInfo.InvariantCulture) });
            await TerminateAsync(permit, "expired", null, cancellationToken);
            changed++;
        }

        var terminated = await database.Permits.Where(p => p.State == PermitStates.Terminated).ToListAsync(cancellationToken);
        foreach (var permit in terminated.Where(p => PermitLifecycle.IsErasureDue(p.State, p.TerminatedAt, options.Value.ErasureGracePeriod, now)))
        {
            await EraseAsync(permit, cancellationToken);
            changed++;
        }

        return changed;
    }

    /// <summary>When the next expiry or erasure is due, or null when nothing is scheduled.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        var permits = await database.Permits
            .Where(p => p.State == PermitStates.Active || p.State == PermitStates.Suspended || p.State == PermitStates.Terminated)
            .Select(p => new { p.State, p.ValidUntil, p.TerminatedAt })
            .ToListAsync(cancellationToken);
        var due = permits.Select(p => PermitLifecycle.DueAt(p.State, p.ValidUntil, p.TerminatedAt, options.Value.ErasureGracePeriod)).OfType<DateTimeOffset>().ToList();
        return due.Count > 0 ? due.Min() : null;
    }

    /// <summary>The permit, or null.</summary>
    public Task<PermitEntity?> FindAsync(string id, CancellationToken cancellationToken) =>
        database.Permits.FirstOrDefaultAsync(p => p.Id == id, cancellationToken);

    /// <summary>The permit of a project, or null.</summary>
    public Task<PermitEntity?> FindByProjectAsync(string projectId, CancellationToken cancellationToken) =>
        database.Permits.FirstOrDefaultAsync(p => p.ProjectId == projectId, cancellationToken);

    /// <summary>The current version's document.</summary>
    public Task<PermitDocument> CurrentDocumentAsync(PermitEntity permit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(permit);
        return access.DocumentAsync(permit.Id, permit.CurrentVersion, cancellationToken);
    }

    /// <summary>The current version's document of a permit as the access chain read it.</summary>
    public Task<PermitDocument> CurrentDocumentAsync(ProjectPermit permit, CancellationToken cancellationToken) =>
        access.DocumentAsync(permit, cancellationToken);

    /// <summary>All versions, oldest first.</summary>
    public Task<List<PermitVersionEntity>> VersionsAsync(string id, CancellationToken cancellationToken) =>
        database.PermitVersions.Where(v => v.PermitId == id).OrderBy(v => v.Version).ToListAsync(cancellationToken);

    /// <summary>
    /// Permits the caller may see, oldest first, each with the caller's roles in it that count: all for the oversight roles,
    /// otherwise those whose current version names the caller (<see cref="Membership.Sees"/>). Two queries, however many permits.
    /// </summary>
    public async Task<List<(PermitEntity Permit, IReadOnlySet<string> Roles)>> VisibleAsync(AccessPrincipal caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var named = await access.NamedRolesByPermitAsync(caller, cancellationToken);
        var ids = named.Keys.ToList();
        var permits = Membership.IsOversight(caller)
            ? await database.Permits.ToListAsync(cancellationToken)
            : await database.Permits.Where(p => ids.Contains(p.Id)).ToListAsync(cancellationToken);
        // Ordered in memory: SQLite cannot order by DateTimeOffset.
        return permits
            .Select(p => (Permit: p, Named: named.GetValueOrDefault(p.Id) ?? (IReadOnlySet<string>)new HashSet<string>()))
            .Where(p => Membership.Sees(caller, p.Named))
            .OrderBy(p => p.Permit.CreatedAt)
            .Select(p => (p.Permit, Membership.Effective(caller, p.Named)))
            .ToList();
    }

    /// <summary>The permit if the caller may see it (<see cref="VisibleAsync"/>), else null — as for a permit that does not exist.</summary>
    public async Task<PermitEntity?> FindVisibleAsync(string id, AccessPrincipal caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var permit = await FindAsync(id, cancellationToken);
        return permit is not null && Membership.Sees(caller, await access.NamedRolesAsync(permit.Id, caller, cancellationToken)) ? permit : null;
    }

    /// <summary>The current version as a compact JWS (ES256) that anyone with the published key can verify offline.</summary>
    public async Task<string> SignedDocumentAsync(PermitEntity permit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(permit);
        var document = await CurrentDocumentAsync(permit, cancellationToken);
        var payload = JsonSerializer.Serialize(new
        {
            iss = tokens.Value.Issuer,
            iat = time.GetUtcNow().ToUnixTimeSeconds(),
            jti = Guid.NewGuid().ToString("N"),
            permitId = permit.Id,
            projectId = permit.ProjectId,
            version = permit.CurrentVersion,
            state = permit.State,
            permit = document,
        }, DocumentJson);
        return signingKey.SignJson(payload, "openspe-permit+jws");
    }

    /// <summary>
    /// One GA4GH Passport <c>ControlledAccessGrants</c> visa per data user and dataset: every data
    /// user's for an HDAB officer, otherwise only the caller's own (visas are credentials).
    /// </summary>
    public async Task<List<(string User, string Dataset, string Visa)>> VisasAsync(PermitEntity permit, ClaimsPrincipal caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(permit);
        ArgumentNullException.ThrowIfNull(caller);
        var document = await CurrentDocumentAsync(permit, cancellationToken);
        var issuer = tokens.Value.Issuer!;
        var now = time.GetUtcNow();
        var result = new List<(string, string, string)>();
        var everyone = caller.IsInRole(SpeRoles.Hdab) && !IdentitySetup.IsClient(caller);
        var self = !everyone && caller.FindFirst("sub")?.Value is { } sub ? await users.FindByIdAsync(sub) : null;
        var logins = self is null ? [] : await users.GetLoginsAsync(self);
        foreach (var user in document.DataUsers.Where(u => u.Application is null))
        {
            var accountId = user.Account is not null ? (await users.FindByNameAsync(user.Account))?.Id : null;
            // Note: only the HDAB and the person a visa names may read it: a visa is a credential a peer SPE accepts. The person is
            // matched by account id, as access is, so a name spelt in another case is still (only) that person.
            var own = self is not null && ((accountId is not null && string.Equals(accountId, self.Id, StringComparison.Ordinal))
                || (user.Issuer is not null && logins.Any(l => l.LoginProvider == user.Issuer && l.ProviderKey == user.Subject)));
            if (!everyone && !own)
            {
                continue;
            }

            var subject = user.Account is not null ? accountId ?? user.Account : user.Subject!;
            var label = user.Account ?? $"{user.Issuer}#{user.Subject}";
            foreach (var dataset in document.Datasets)
            {
                var claims = new Dictionary<string, object>
                {
                    ["sub"] = subject,
                    ["jti"] = Guid.NewGuid().ToString("N"),
                    ["ga4gh_visa_v1"] = new Dictionary<string, object>
                    {
                        ["type"] = "ControlledAccessGrants",
                        ["asserted"] = permit.CreatedAt.ToUnixTimeSeconds(),
                        ["value"] = $"{issuer}api/v1/permits/{permit.Id}/datasets/{dataset.Id}",
                        ["source"] = issuer,
                        ["by"] = "dac",
                    },
                };
                if (user.Issuer is not null)
                {
                    claims["subject_issuer"] = user.Issuer;
                }

                result.Add((label, dataset.Id, signingKey.SignClaims(claims, now, permit.ValidUntil, issuer)));
            }
        }

        return result;
    }

    private async Task<PermitResult> TransitionAsync(string id, PermitChange change, string action, string? reason, ClaimsPrincipal actor, string? traceId, CancellationToken cancellationToken)
    {
        if (await FindAsync(id, cancellationToken) is not { } permit)
        {
            return PermitResult.Failed(PermitFailure.NotFound);
        }

        if (!PermitLifecycle.Allows(permit.State, change))
        {
            return PermitResult.Failed(PermitFailure.State($"A {permit.State} permit cannot become {PermitLifecycle.TargetOf(change)}."));
        }

        permit.State = PermitLifecycle.TargetOf(change);
        permit.StateChangedAt = time.GetUtcNow();
        permit.StateReason = reason;
        permit.Revision = Guid.NewGuid();
        if (await SaveOrConflictAsync(cancellationToken) is { } conflict)
        {
            return PermitResult.Failed(conflict);
        }

        await AuditAsync(actor, action, permit, traceId, new() { ["reason"] = reason ?? "" });
        signal.Notify();
        await NotifyChangedAsync(permit.ProjectId, cancellationToken);
        return PermitResult.Done(permit);
    }

    /// <summary>
    /// Saves a caller's change to a permit; when another change of the same permit was saved since it was read (its revision, the
    /// concurrency token, moved on; or the same version number was taken), nothing is kept and the refusal is returned (409 <c>SPE3003</c>).
    /// </summary>
    private async Task<PermitFailure?> SaveOrConflictAsync(CancellationToken cancellationToken)
    {
        try
        {
            await database.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException ex) when (ex is DbUpdateConcurrencyException || DatabaseErrors.IsUniqueViolation(ex))
        {
            // Note: the loser of two changes at once is refused whole, never merged: each change was decided on the version its
            // sender read, so the HDAB reads the permit again and decides on what is in force now. Nothing of it was audited.
            database.ChangeTracker.Clear();
            return PermitFailure.State("The permit changed while this change was made (another amendment or state change was saved first); nothing of this one was kept. Read the permit again.");
        }
    }

    /// <summary>Destroys the key made for a permit whose row was not saved; a failure here is left to the sweep at the next start.</summary>
    private async Task DestroyUnissuedKeyAsync(string projectId)
    {
        try
        {
            await keys.DestroyProjectKeyAsync(projectId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or ProjectKeyException or UnauthorizedAccessException)
        {
            // Note: left for KeysWithoutPermit at the next start.
        }
    }

    private async Task TerminateAsync(PermitEntity permit, string cause, string? traceId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        permit.State = Next(permit, PermitChange.Terminate);
        permit.TerminatedAt = now;
        permit.StateChangedAt = now;
        permit.StateReason = cause;
        permit.Revision = Guid.NewGuid();
        await database.SaveChangesAsync(cancellationToken);
        foreach (var hook in terminationHooks)
        {
            await hook.OnProjectTerminatedAsync(permit.ProjectId, cancellationToken);
        }

        await AuditAsync(null, "project.terminated", permit, traceId, new()
        {
            ["cause"] = cause,
            ["erasureDue"] = (now + options.Value.ErasureGracePeriod).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        });
        signal.Notify();
        await NotifyChangedAsync(permit.ProjectId, cancellationToken);
    }

    private async Task EraseAsync(PermitEntity permit, CancellationToken cancellationToken)
    {
        var erasure = await eraser.EraseProjectAsync(permit.ProjectId, cancellationToken);
        foreach (var hook in erasureHooks)
        {
            await hook.OnProjectErasedAsync(permit.ProjectId, cancellationToken);
        }

        var certificate = JsonSerializer.Serialize(new
        {
            type = "openspe-erasure-certificate",
            issuer = tokens.Value.Issuer,
            projectId = permit.ProjectId,
            permitId = permit.Id,
            reference = permit.Reference,
            rule = $"erased {options.Value.ErasureGracePeriod.TotalDays:0.##} days after termination ({permit.StateReason})",
            terminatedAt = permit.TerminatedAt,
            erasedAt = erasure.CompletedAt,
            key = erasure.Key is null ? null : new { erasure.Key.KeyFingerprint, erasure.Key.Backend, erasure.Key.MasterKeyId, erasure.Key.DestroyedAt },
            objects = new { erasure.ObjectPrefix, count = erasure.ObjectCount, bytes = erasure.Bytes },
        }, DocumentJson);
        var signed = signingKey.SignJson(certificate, "openspe-erasure+jws");
        permit.State = Next(permit, PermitChange.Erase);
        permit.StateChangedAt = erasure.CompletedAt;
        permit.Revision = Guid.NewGuid();
        await database.SaveChangesAsync(cancellationToken);
        // Note: the audit record is the durable home of the certificate; audit records are never erased.
        await AuditAsync(null, "project.erased", permit, null, new()
        {
            ["certificate"] = signed,
            ["keyDestroyed"] = erasure.Key?.KeyFingerprint ?? "none",
            ["objects"] = erasure.ObjectCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["bytes"] = erasure.Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    private async Task NotifyChangedAsync(string projectId, CancellationToken cancellationToken)
    {
        foreach (var hook in changeHooks)
        {
            await hook.OnPermitChangedAsync(projectId, cancellationToken);
        }
    }

    private async Task<PermitFailure?> ValidateAsync(PermitDocument document, ClaimsPrincipal actor)
    {
        var officer = actor.FindFirst("preferred_username")?.Value;
        var errors = await PermitValidator.ValidateAsync(document, new AccountLookup(users, applications), time.GetUtcNow(), officer);
        return errors.Count > 0 ? new PermitFailure(PermitFailureKind.Invalid, "The permit has invalid fields.", errors) : null;
    }

    private async Task ReplaceMembersAsync(string permitId, PermitDocument document, CancellationToken cancellationToken)
    {
        database.PermitMembers.RemoveRange(await database.PermitMembers.Where(m => m.PermitId == permitId).ToListAsync(cancellationToken));
        foreach (var user in document.DataUsers)
        {
            if (user.Application is not null)
            {
                database.PermitMembers.Add(new PermitMemberEntity { PermitId = permitId, Role = PermitRoles.Application, ClientId = user.Application });
                continue;
            }

            var account = user.Account is null ? null : await users.FindByNameAsync(user.Account);
            database.PermitMembers.Add(new PermitMemberEntity { PermitId = permitId, Role = SpeRoles.Researcher, AccountId = account?.Id, Issuer = user.Issuer, Subject = user.Subject });
        }

        // Note: only the holders of datasets held here are members here. A dataset another node holds names an account of that
        // node (DatasetHolders: it has no holder here), so a local account of the same name must not become a member of the
        // project (see its members, datasets and public key) through it.
        var holderIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var holder in document.Datasets.Where(d => d.Node is null).Select(d => d.Holder).Distinct(StringComparer.Ordinal))
        {
            var account = await users.FindByNameAsync(holder);
            if (account is not null && holderIds.Add(account.Id))
            {
                database.PermitMembers.Add(new PermitMemberEntity { PermitId = permitId, Role = SpeRoles.DataHolder, AccountId = account.Id });
            }
        }
    }

    private PermitVersionEntity Version(PermitEntity permit, int version, PermitDocument document, ClaimsPrincipal actor, string summary) => new()
    {
        PermitId = permit.Id,
        Version = version,
        DocumentJson = JsonSerializer.Serialize(document, DocumentJson),
        CreatedAt = time.GetUtcNow(),
        CreatedBy = Subject(actor),
        Summary = summary.Length > 500 ? summary[..500] : summary,
    };

    /// <summary>The amendment's summary; people are compared by account id (<paramref name="accountIds"/>, by name as written), never by the name as typed.</summary>
    private static string DescribeChanges(PermitDocument before, PermitDocument after, IReadOnlyDictionary<string, string> accountIds)
    {
        // Note: by account id, because "RESEARCHER" for "researcher" names the same person: the record must not say they were
        // removed while their access stays (nor added when nothing changed).
        string Key(PermitDataUser u) => u.Application is not null ? "application:" + u.Application
            : u.Account is not null ? "account:" + (accountIds.TryGetValue(u.Account, out var id) ? id : u.Account)
            : $"external:{u.Issuer}#{u.Subject}";
        static string Label(PermitDataUser u) => u.Application is not null ? "application " + u.Application : u.Account ?? $"{u.Issuer}#{u.Subject}";
        var changes = new List<string>();
        var beforeKeys = before.DataUsers.Select(Key).ToHashSet(StringComparer.Ordinal);
        var afterKeys = after.DataUsers.Select(Key).ToHashSet(StringComparer.Ordinal);
        var added = after.DataUsers.Where(u => !beforeKeys.Contains(Key(u))).Select(Label).Distinct(StringComparer.Ordinal).ToList();
        var removed = before.DataUsers.Where(u => !afterKeys.Contains(Key(u))).Select(Label).Distinct(StringComparer.Ordinal).ToList();
        if (added.Count > 0)
        {
            changes.Add("added " + string.Join(", ", added));
        }

        if (removed.Count > 0)
        {
            changes.Add("removed " + string.Join(", ", removed));
        }

        if (before.ValidFrom != after.ValidFrom || before.ValidUntil != after.ValidUntil)
        {
            changes.Add($"validity {after.ValidFrom:O}..{after.ValidUntil:O}");
        }

        if (JsonSerializer.Serialize(before.Datasets, DocumentJson) != JsonSerializer.Serialize(after.Datasets, DocumentJson))
        {
            changes.Add("datasets changed");
        }

        if (JsonSerializer.Serialize(before.Policies, DocumentJson) != JsonSerializer.Serialize(after.Policies, DocumentJson))
        {
            changes.Add("policies changed");
        }

        return changes.Count == 0 ? "no material change" : string.Join("; ", changes);
    }

    private Task<long> AuditAsync(ClaimsPrincipal? actor, string action, PermitEntity permit, string? traceId, Dictionary<string, string> details)
    {
        details["state"] = permit.State;
        var who = actor is null
            ? AuditActor.System
            : AuditActors.From(actor);
        return audit.AppendAsync(new AuditEntry(who, action, new AuditResource("permit", permit.Id, permit.ProjectId), AuditOutcome.Success, null, traceId, details));
    }

    private static string Subject(ClaimsPrincipal actor) => actor.FindFirst("sub")?.Value ?? "system";

    private static string Next(PermitEntity permit, PermitChange change) =>
        PermitLifecycle.Allows(permit.State, change)
            ? PermitLifecycle.TargetOf(change)
            : throw new PermitStateException($"A {permit.State} permit cannot become {PermitLifecycle.TargetOf(change)}.");

    private sealed class AccountLookup(UserManager<SpeUser> users, OpenIddict.Abstractions.IOpenIddictApplicationManager applications) : PermitValidator.IAccounts
    {
        public async Task<bool> ApplicationExistsAsync(string clientId) =>
            await applications.FindByClientIdAsync(clientId) is { } application
            && await applications.HasClientTypeAsync(application, OpenIddict.Abstractions.OpenIddictConstants.ClientTypes.Confidential);

        public async Task<PermitValidator.Account?> FindAsync(string username)
        {
            // Found as a sign-in finds it (the normalized name), so every spelling of a name is the one account it means.
            var user = await users.FindByNameAsync(username);
            return user is null ? null : new PermitValidator.Account(user.Id, (await users.GetRolesAsync(user)).ToList());
        }
    }
}

/// <summary>Wakes the lifecycle service when a permit changes, so it re-plans its next wake-up.</summary>
internal sealed class PermitLifecycleSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    /// <summary>Signals a change.</summary>
    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up covers every change.
        }
    }

    /// <summary>Waits for a change.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _signal.WaitAsync(cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _signal.Dispose();
}
