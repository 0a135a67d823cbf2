namespace OpenSpe.Workspaces;

/// <summary>A running sandboxed process tree. Disposing it kills whatever still runs.</summary>
public interface IWorkspaceProcess : IAsyncDisposable
{
    /// <summary>The project it runs in.</summary>
    string ProjectId { get; }

    /// <summary>The member it runs for.</summary>
    string Member { get; }

    /// <summary>Its standard input (write, then dispose to close).</summary>
    Stream StandardInput { get; }

    /// <summary>Its standard output, as bytes.</summary>
    Stream StandardOutput { get; }

    /// <summary>Its standard error, as bytes.</summary>
    Stream StandardError { get; }

    /// <summary>Completes when the whole tree has ended.</summary>
    Task<WorkspaceExit> Completion { get; }

    /// <summary>Kills the whole tree (every process in the sandbox) and waits for it to end.</summary>
    Task StopAsync(WorkspaceStopReason reason, CancellationToken cancellationToken);

    /// <summary>
    /// Connects to the UNIX socket <paramref name="name"/> that the sandbox created in <c>/run/workspace</c>
    /// (only when started with <see cref="WorkspaceSpec.ExposeSockets"/>).
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">
    /// What answered is not a process of the sandbox's project (for example the name was a symlink to a host socket);
    /// the connection was closed before anything was sent.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a plain file name.</exception>
    Task<Stream> ConnectSocketAsync(string name, CancellationToken cancellationToken);
}

/// <summary>How a sandboxed process ended.</summary>
/// <param name="ExitCode">The exit code; 128 + signal number when killed by a signal (as a shell reports it).</param>
/// <param name="StoppedBy">Why the SPE stopped it, or null when it ended by itself.</param>
/// <param name="LimitHit">True when the kernel killed it for a resource limit (memory, CPU time) as far as can be told.</param>
public sealed record WorkspaceExit(int ExitCode, WorkspaceStopReason? StoppedBy, bool LimitHit);

/// <summary>The sandbox could not be set up.</summary>
public sealed class WorkspaceStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkspaceStartException() { }

    /// <summary>Creates the exception with a message an operator can act on (no secrets, no plaintext).</summary>
    public WorkspaceStartException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public WorkspaceStartException(string message, Exception inner) : base(message, inner) { }
}
