using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Server.Permits;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// Runs one job: registers it as the project's work (a halt stops it), stages the permit's datasets as plaintext
/// (<see cref="DatasetStager"/>), starts the sandbox, keeps its output in the job's log, and records how it ended. The
/// plaintext lease is released when the job ends.
/// </summary>
internal sealed partial class JobRunner(
    IServiceScopeFactory scopes,
    IWorkspaceRuntime runtime,
    IPlaintextStaging staging,
    HaltRegistry halts,
    JobLogStore logs,
    JobRecorder recorder,
    IOptions<JobOptions> options,
    ILogger<JobRunner> logger)
{
    /// <summary>Runs <paramref name="run"/> to its end; never throws.</summary>
    public async Task RunAsync(JobRun run, JobScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(scheduler);
        string state;
        int? exitCode = null;
        string? reason = null;
        // Note: output past the limit would fill the data directory that holds the database and the audit log, so the job is
        // stopped there; the stop is recorded and audited as any other (end reason log-limit).
        var writer = logs.Create(run.ProjectId, run.Id, options.Value.MaxLogBytes, () => run.Stop(WorkspaceStopReason.OutputLimit));
        // Note: the job is the project's work, so a halt of the project or of everything stops it at once (OPR-20); a project
        // halted already never starts it.
        using var work = halts.TryBeginWork(run.ProjectId);
        if (work is null)
        {
            run.Stop(WorkspaceStopReason.Halted);
        }

        await using var onHalt = work is null ? default : work.Halted.UnsafeRegister(_ => _ = scheduler.StopProjectAsync(run.ProjectId, WorkspaceStopReason.Halted), null);
        IPlaintextLease? lease = null;
        IWorkspaceProcess? process = null;
        try
        {
            run.Stopping.ThrowIfCancellationRequested();
            await recorder.MarkRunningAsync(run);
            lease = await StageAsync(run);
            process = await runtime.StartAsync(new WorkspaceSpec
            {
                ProjectId = run.ProjectId,
                Member = run.Member,
                Command = run.Command,
                Data = lease,
                Limits = options.Value.Limits,
            }, run.Stopping);
            var started = process;
            await using var onStop = run.Stopping.UnsafeRegister(_ => _ = started.StopAsync(run.StopReason ?? WorkspaceStopReason.Requested, CancellationToken.None), null);
            await process.StandardInput.DisposeAsync();
            var pumps = Task.WhenAll(writer.PumpAsync(process.StandardOutput, JobLogStreams.StandardOutput, CancellationToken.None),
                writer.PumpAsync(process.StandardError, JobLogStreams.StandardError, CancellationToken.None));
            var exit = await process.Completion;
            await pumps;
            exitCode = exit.ExitCode;
            var stoppedBy = exit.StoppedBy ?? run.StopReason;
            (state, reason) = stoppedBy is { } by
                ? (JobEndReasons.StateOf(by), JobEndReasons.Of(by))
                : (exit.ExitCode == 0 ? JobStates.Succeeded : JobStates.Failed, exit.LimitHit ? "limit" : null);
        }
        catch (OperationCanceledException) when (run.Stopping.IsCancellationRequested)
        {
            var by = run.StopReason ?? WorkspaceStopReason.Requested;
            (state, reason) = (JobEndReasons.StateOf(by), JobEndReasons.Of(by));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Note: the exception's type only: its message may name host paths, which the job's members must not see.
            StartFailed(logger, run.Id, run.ProjectId, ex.GetType().Name, ex);
            await writer.WriteAsync(JobLogStreams.StandardError, "spe: the job could not be started in the project's sandbox; the operator's log has the cause.\n", CancellationToken.None);
            (state, reason) = (JobStates.Failed, JobEndReasons.StartFailed);
        }
        finally
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }

            if (lease is not null)
            {
                await lease.DisposeAsync();
            }

            await writer.DisposeAsync();
        }

        await recorder.MarkEndedAsync(run, state, exitCode, reason);
    }

    private async Task<IPlaintextLease> StageAsync(JobRun run)
    {
        await using var scope = scopes.CreateAsyncScope();
        var stager = scope.ServiceProvider.GetRequiredService<DatasetStager>();
        return await stager.LeaseAsync(staging, run.ProjectId, run.Stopping);
    }

    [LoggerMessage(EventId = 16001, Level = LogLevel.Error, Message = "SPE16001 job {JobId} of project {ProjectId} could not start ({ErrorType})")]
    private static partial void StartFailed(ILogger logger, string jobId, string projectId, string errorType, Exception exception);
}
