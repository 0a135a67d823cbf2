using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Contracts;

/// <summary>
/// Starts a code-to-data job (<c>POST /api/v1/projects/{projectId}/jobs</c>): either a command run in the project's sandbox
/// (<c>["python3", "/project/a.py"]</c>), or an approved component of the permit by name with its arguments. Exactly one of
/// <see cref="Command"/> and <see cref="Component"/>.
/// </summary>
/// <param name="Command">Program and arguments, resolved inside the sandbox.</param>
/// <param name="Component">A component the permit approves (<c>policies.approvedComponents</c>): <c>name</c> (the first version the permit lists) or <c>name@version</c>.</param>
/// <param name="Args">The component's arguments (only with <see cref="Component"/>).</param>
public sealed record JobRunRequest(
    [property: MinLength(1), MaxLength(256)] IReadOnlyList<string>? Command = null,
    [property: StringLength(151, MinimumLength = 1)] string? Component = null,
    [property: MaxLength(256)] IReadOnlyList<string>? Args = null);

/// <summary>A job as the API shows it (no output: that is <c>GET .../jobs/{jobId}/logs</c>).</summary>
/// <param name="Id">Job id.</param>
/// <param name="ProjectId">Its project.</param>
/// <param name="State">One of <see cref="JobStates"/>.</param>
/// <param name="Command">What runs (for a component: its path in the sandbox and the arguments).</param>
/// <param name="Component">The approved component's name, or null for a command.</param>
/// <param name="ComponentVersion">The approved component's version, or null.</param>
/// <param name="ExitCode">The exit code once ended (128 + signal when killed), or null.</param>
/// <param name="EndReason">Why the SPE ended it (<c>requested</c>, <c>halted</c>, <c>permit-ended</c>, <c>access-revoked</c>, <c>shutdown</c>, <c>start-failed</c>, <c>component-changed</c>), or null when it ended by itself.</param>
/// <param name="SubmittedBy">Who started it (user name).</param>
/// <param name="CreatedAt">When it was submitted.</param>
/// <param name="StartedAt">When it started running.</param>
/// <param name="EndedAt">When it ended.</param>
public sealed record JobView(
    string Id,
    string ProjectId,
    string State,
    IReadOnlyList<string> Command,
    string? Component,
    string? ComponentVersion,
    int? ExitCode,
    string? EndReason,
    string SubmittedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt);

/// <summary>
/// One line of a job's log (<c>GET .../jobs/{jobId}/logs</c>, <c>application/x-ndjson</c>): output of
/// <c>stdout</c> or <c>stderr</c> with its <see cref="Text"/>, or, last, the <c>end</c> line with the job's final state and
/// exit code (only when the job has ended).
/// </summary>
/// <param name="Stream"><c>stdout</c>, <c>stderr</c> or <c>end</c>.</param>
/// <param name="Text">The output (UTF-8 text as the job wrote it, cut where a read ended), or null for <c>end</c>.</param>
/// <param name="State">The final state (<c>end</c> only).</param>
/// <param name="ExitCode">The exit code (<c>end</c> only; null when the job never ran).</param>
/// <param name="Reason">Why the SPE ended the job (<c>end</c> only; e.g. <c>log-limit</c>, <c>halted</c>), or null when it ended by itself.</param>
public sealed record JobLogEntry(string Stream, string? Text = null, string? State = null, int? ExitCode = null, string? Reason = null);

/// <summary>The states of a job.</summary>
public static class JobStates
{
    /// <summary>Waiting for a free slot of the project (the per-project concurrency limit).</summary>
    public const string Queued = "queued";

    /// <summary>Running in the project's sandbox.</summary>
    public const string Running = "running";

    /// <summary>Ended by itself with exit code 0.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>Ended by itself with another exit code, or could not start.</summary>
    public const string Failed = "failed";

    /// <summary>A member cancelled it.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The SPE stopped it: halt, permit ended, access revoked, shutdown.</summary>
    public const string Stopped = "stopped";

    /// <summary>True for the states a job never leaves.</summary>
    public static bool IsFinal(string state) => state is Succeeded or Failed or Cancelled or Stopped;
}

/// <summary>The log streams of a job.</summary>
public static class JobLogStreams
{
    /// <summary>Standard output.</summary>
    public const string StandardOutput = "stdout";

    /// <summary>Standard error.</summary>
    public const string StandardError = "stderr";

    /// <summary>The last line: the job ended.</summary>
    public const string End = "end";

    /// <summary>The media type of a job's log.</summary>
    public const string MediaType = "application/x-ndjson";
}
