using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Access;
using OpenSpe.Server.Identity;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// Judges running and queued jobs again with the access chain (OPR-5, EHDSR-3): when the permit is no longer in force
/// (expired, suspended, revoked, terminated) the project's jobs stop and its plaintext goes; when the member lost access
/// (removed from the permit, account disabled, role revoked) that member's jobs stop. A change made on this instance wakes
/// it at once (<see cref="IPermitChangeHook"/>, <see cref="IAccountChangeHook"/>); expiry, which has no event, and changes
/// made on other instances are seen within <see cref="JobOptions.AccessCheckInterval"/>.
/// </summary>
internal sealed partial class JobAccessWatch(
    JobScheduler scheduler,
    IServiceScopeFactory scopes,
    IOptions<JobOptions> options,
    ILogger<JobAccessWatch> logger) : BackgroundService, IPermitChangeHook, IAccountChangeHook
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <inheritdoc />
    public Task OnPermitChangedAsync(string projectId, CancellationToken cancellationToken) => WakeAsync();

    /// <inheritdoc />
    public Task OnAccountChangedAsync(string accountId, CancellationToken cancellationToken) => WakeAsync();

    /// <summary>Judges every held job now (for tests and the hooks).</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var runs = scheduler.Snapshot();
        if (runs.Count == 0)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var chain = scope.ServiceProvider.GetRequiredService<AccessChain>();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<SpeUser>>();
        var stoppedProjects = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in runs.Select(r => (r.ProjectId, r.AccountId, r.ExternalSignIn)).Distinct())
        {
            if (stoppedProjects.Contains(member.ProjectId))
            {
                continue;
            }

            var user = await users.FindByIdAsync(member.AccountId);
            if (user is null || user.Disabled)
            {
                AccessEnded(logger, member.ProjectId, "account-disabled");
                await scheduler.StopMemberAsync(member.ProjectId, member.AccountId, WorkspaceStopReason.AccessRevoked);
                continue;
            }

            // Note: the job's starter is judged as a person who signed in with a second factor (through the same provider, if any), as when they submitted it:
            // what can change since is the account's roles, the permit, its members and the halts.
            var principal = AccessPrincipal.Person(member.AccountId, hasSecondFactor: true, await users.GetRolesAsync(user),
                member.ExternalSignIn?.Issuer, member.ExternalSignIn?.Subject);
            var decision = await chain.DecideAsync(new AccessRequest(principal, member.ProjectId, JobActions.Run.Action), cancellationToken);
            decision.Grant?.Dispose();
            switch (decision.Refusal?.Kind)
            {
                case null:
                case AccessRefusalKind.HaltStateUnknown:
                    // Note: an instance that cannot read the halts cancels the projects' work itself (HaltRegistry), which stops the jobs.
                    break;
                case AccessRefusalKind.Halted:
                    stoppedProjects.Add(member.ProjectId);
                    await scheduler.StopProjectAsync(member.ProjectId, WorkspaceStopReason.Halted);
                    break;
                case AccessRefusalKind.PermitNotInForce:
                    AccessEnded(logger, member.ProjectId, decision.Refusal.Reason);
                    stoppedProjects.Add(member.ProjectId);
                    await scheduler.StopProjectAsync(member.ProjectId, WorkspaceStopReason.PermitEnded);
                    break;
                default:
                    AccessEnded(logger, member.ProjectId, decision.Refusal.Reason);
                    await scheduler.StopMemberAsync(member.ProjectId, member.AccountId, WorkspaceStopReason.AccessRevoked);
                    break;
            }
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Note: the interval is a bound on how late an expiry is seen, so it runs on the wall clock, not the server's TimeProvider.
                await _wake.WaitAsync(options.Value.AccessCheckInterval, stoppingToken);
                await CheckAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                CheckFailed(logger, ex.GetType().Name, ex);
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private Task WakeAsync()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 16002, Level = LogLevel.Warning, Message = "SPE16002 jobs of project {ProjectId} are stopped: access ended ({Reason})")]
    private static partial void AccessEnded(ILogger logger, string projectId, string reason);

    [LoggerMessage(EventId = 16003, Level = LogLevel.Error, Message = "SPE16003 the access check of running jobs failed ({ErrorType}); it is tried again at the next interval")]
    private static partial void CheckFailed(ILogger logger, string errorType, Exception exception);
}
