using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Workspaces;

/// <summary>Records a job's start and end: its row and its audit record (what ran and how it ended, never its output).</summary>
internal sealed class JobRecorder(IServiceScopeFactory scopes, TimeProvider time, IAuditLog audit, JobLogStore logs)
{
    /// <summary>The job runs now.</summary>
    public async Task MarkRunningAsync(JobRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using var scope = scopes.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
        var now = time.GetUtcNow();
        await database.Jobs.Where(j => j.Id == run.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, JobStates.Running).SetProperty(j => j.StartedAt, now), CancellationToken.None);
        run.MarkStarted();
        await AppendAsync(run, "job.started", AuditOutcome.Success, new() { ["command"] = run.CommandName, ["member"] = run.Member });
    }

    /// <summary>
    /// The job ended (or was ended before it ran): its row becomes final, the end is audited, and readers following its log
    /// are woken. The log must be complete before this is called.
    /// </summary>
    public async Task MarkEndedAsync(JobRun run, string state, int? exitCode, string? reason)
    {
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
                var now = time.GetUtcNow();
                await database.Jobs.Where(j => j.Id == run.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.State, state).SetProperty(j => j.ExitCode, exitCode)
                        .SetProperty(j => j.EndReason, reason).SetProperty(j => j.EndedAt, now), CancellationToken.None);
            }

            // Note: "ran" tells a job that ended in its sandbox from one ended while it waited (running-jobs metric).
            var details = new Dictionary<string, string> { ["command"] = run.CommandName, ["state"] = state, ["ran"] = run.Started ? "true" : "false" };
            if (exitCode is { } code)
            {
                details["exitCode"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (reason is not null)
            {
                details["reason"] = reason;
            }

            await AppendAsync(run, state == JobStates.Cancelled ? "job.cancelled" : "job.ended", state is JobStates.Succeeded or JobStates.Cancelled ? AuditOutcome.Success : AuditOutcome.Error, details);
        }
        finally
        {
            run.MarkEnded();
            logs.SignalOf(run.Id).Pulse();
            logs.Forget(run.Id);
        }
    }

    private Task<long> AppendAsync(JobRun run, string action, AuditOutcome outcome, Dictionary<string, string> details) =>
        audit.AppendAsync(new AuditEntry(AuditActor.System, action, new AuditResource("job", run.Id, run.ProjectId), outcome, null, null, details), CancellationToken.None);
}
