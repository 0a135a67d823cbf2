using OpenSpe.Workspaces;

namespace OpenSpe.Server.Workspaces;

/// <summary>A job this instance holds, queued or running: what to run, and the switch that stops it with a reason.</summary>
internal sealed class JobRun : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reason = -1;
    private volatile bool _started;

    /// <summary>Job id.</summary>
    public required string Id { get; init; }

    /// <summary>Project.</summary>
    public required string ProjectId { get; init; }

    /// <summary>Account id of who submitted it.</summary>
    public required string AccountId { get; init; }

    /// <summary>
    /// The external provider's issuer and subject when its starter signed in through one (null for a local sign-in): the job is judged
    /// again as that sign-in, because a permit's external identity names only a sign-in through that provider.
    /// </summary>
    public (string Issuer, string Subject)? ExternalSignIn { get; init; }

    /// <summary>User name of who submitted it (the sandbox's member).</summary>
    public required string Member { get; init; }

    /// <summary>What runs in the sandbox.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>What the audit records name: the program, or the component with its version — never the arguments or output.</summary>
    public required string CommandName { get; init; }

    /// <summary>Cancelled when the job is to stop (<see cref="StopReason"/> says why).</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Why the SPE stops it, once <see cref="Stop"/> was called.</summary>
    public WorkspaceStopReason? StopReason => Volatile.Read(ref _reason) is var r and >= 0 ? (WorkspaceStopReason)r : null;

    /// <summary>Completes once the job's end is recorded.</summary>
    public Task Ended => _ended.Task;

    /// <summary>Asks the job to stop; the first reason wins. False when it was asked already.</summary>
    public bool Stop(WorkspaceStopReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, -1) != -1)
        {
            return false;
        }

        _stop.Cancel();
        return true;
    }

    /// <summary>True once the job left the queue and its sandbox started.</summary>
    public bool Started => _started;

    /// <summary>Marks the start as recorded.</summary>
    public void MarkStarted() => _started = true;

    /// <summary>Marks the end as recorded.</summary>
    public void MarkEnded() => _ended.TrySetResult();

    public void Dispose() => _stop.Dispose();
}

/// <summary>The words the API and the audit use for a stop reason.</summary>
internal static class JobEndReasons
{
    /// <summary>The sandbox could not be set up, or the plaintext could not be staged.</summary>
    public const string StartFailed = "start-failed";

    /// <summary>The job's output reached <c>Jobs:MaxLogBytes</c>; the rest was not kept and the job was stopped.</summary>
    public const string LogLimit = "log-limit";

    /// <summary>The end reason of <paramref name="reason"/>.</summary>
    public static string Of(WorkspaceStopReason reason) => reason switch
    {
        WorkspaceStopReason.Requested => "requested",
        WorkspaceStopReason.Halted => "halted",
        WorkspaceStopReason.PermitEnded => "permit-ended",
        WorkspaceStopReason.AccessRevoked => "access-revoked",
        WorkspaceStopReason.TimedOut => "timed-out",
        WorkspaceStopReason.Shutdown => "shutdown",
        WorkspaceStopReason.OutputLimit => LogLimit,
        _ => "stopped",
    };

    /// <summary>The final state of a job the SPE stopped for <paramref name="reason"/>.</summary>
    public static string StateOf(WorkspaceStopReason reason) => reason == WorkspaceStopReason.Requested ? JobStates.Cancelled : JobStates.Stopped;
}
