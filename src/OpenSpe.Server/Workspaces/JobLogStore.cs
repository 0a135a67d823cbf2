using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using OpenSpe.Server.Hosting;

namespace OpenSpe.Server.Workspaces;

/// <summary>
/// Where a job's output is kept: <c>&lt;data&gt;/projects/&lt;project&gt;/jobs/&lt;job&gt;/log.ndjson</c>, one
/// <see cref="JobLogEntry"/> a line, owner-only (0600 in 0700 directories).
/// </summary>
/// <remarks>
/// Note: output is project data (it was computed from the permit's datasets), so it is kept in the project's space on disk
/// and never in the server log or the audit log, which record only that a job ran and how it ended. It is kept outside the
/// sandbox's mounts because a job must not rewrite the record of another job's output.
/// </remarks>
internal sealed class JobLogStore(DataDirectory directory)
{
    private readonly ConcurrentDictionary<string, JobLogSignal> _signals = new(StringComparer.Ordinal);

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The project's job directory.</summary>
    public string ProjectDirectory(string projectId) => Path.Combine(directory.Path, "projects", Safe(projectId), "jobs");

    /// <summary>The log file of a job.</summary>
    public string PathOf(string projectId, string jobId) => Path.Combine(ProjectDirectory(projectId), Safe(jobId), "log.ndjson");

    /// <summary>
    /// Creates the job's log for writing (the runner's): at most <paramref name="maxBytes"/> bytes of output lines are stored;
    /// the line that would pass it is replaced by a marker, nothing after it is kept, and <paramref name="onLimit"/> is called once.
    /// </summary>
    public JobLogWriter Create(string projectId, string jobId, long maxBytes = long.MaxValue, Action? onLimit = null)
    {
        var path = PathOf(projectId, jobId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, DirectoryMode);
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            BufferSize = 0,
        });
        return new JobLogWriter(stream, SignalOf(jobId), maxBytes, onLimit);
    }

    /// <summary>Opens the job's log for reading, or null when it has none (yet).</summary>
    public FileStream? OpenRead(string projectId, string jobId)
    {
        try
        {
            return new FileStream(PathOf(projectId, jobId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The signal of a job's log: pulsed on each write and at the end.</summary>
    public JobLogSignal SignalOf(string jobId) => _signals.GetOrAdd(jobId, _ => new JobLogSignal());

    /// <summary>Forgets a job's signal once its log is complete (late readers read the file).</summary>
    public void Forget(string jobId) => _signals.TryRemove(jobId, out _);

    /// <summary>Removes every job log of the project (its erasure).</summary>
    public int DeleteProject(string projectId)
    {
        var root = ProjectDirectory(projectId);
        if (!Directory.Exists(root))
        {
            return 0;
        }

        var count = Directory.GetDirectories(root).Length;
        Directory.Delete(root, recursive: true);
        return count;
    }

    private static string Safe(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? id
            : throw new ArgumentException("not an id", nameof(id));
}

/// <summary>Wakes the readers that follow a job's log.</summary>
internal sealed class JobLogSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A task that completes at the next write or at the end. Take it before reading, then await it.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Wakes the readers.</summary>
    public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

/// <summary>Appends a job's output, one entry a line; each line is written whole with one write, so readers see whole lines.</summary>
/// <remarks>
/// Note: the log lives in the server's data directory, beside the database and the audit log, so what a job prints is capped
/// (counted on the bytes stored, escaping included, because that is what fills the disk): past the cap nothing more is written,
/// whatever the job goes on printing, and the runner stops the job.
/// </remarks>
internal sealed class JobLogWriter(FileStream stream, JobLogSignal signal, long maxBytes = long.MaxValue, Action? onLimit = null) : IAsyncDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private long _stored;
    private bool _cut;

    /// <summary>True once output was cut at the limit.</summary>
    public bool Cut => Volatile.Read(ref _cut);

    /// <summary>Appends one entry of the stream <paramref name="streamName"/>; dropped once the log was cut at its limit.</summary>
    public async Task WriteAsync(string streamName, string text, CancellationToken cancellationToken)
    {
        var buffer = JobLogJson.Line(new JobLogEntry(streamName, text));
        var limitReached = false;
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_cut)
            {
                return;
            }

            if (_stored + buffer.Length > maxBytes)
            {
                // Note: the marker itself is not counted, so the job's members always learn why the output ends here.
                _cut = true;
                limitReached = true;
                buffer = JobLogJson.Line(new JobLogEntry(JobLogStreams.StandardError,
                    $"spe: the job's output reached the limit of {maxBytes} bytes (Jobs:MaxLogBytes); nothing after this was kept and the job was stopped.\n"));
            }

            await stream.WriteAsync(buffer, cancellationToken);
            _stored += buffer.Length;
        }
        finally
        {
            _lock.Release();
        }

        signal.Pulse();
        if (limitReached)
        {
            onLimit?.Invoke();
        }
    }

    /// <summary>Copies a process's output stream into the log until it ends, decoding UTF-8 across reads.</summary>
    public async Task PumpAsync(Stream source, string streamName, CancellationToken cancellationToken)
    {
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        // Note: 4 KiB a read keeps every line, escaped, well within what a reader takes at once (JobLogReader).
        var bytes = new byte[4 * 1024];
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        int read;
        while ((read = await source.ReadAsync(bytes, cancellationToken)) > 0)
        {
            var count = decoder.GetChars(bytes, 0, read, chars, 0, flush: false);
            if (count > 0)
            {
                await WriteAsync(streamName, new string(chars, 0, count), cancellationToken);
            }
        }

        var rest = decoder.GetChars([], 0, 0, chars, 0, flush: true);
        if (rest > 0)
        {
            await WriteAsync(streamName, new string(chars, 0, rest), cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stream.FlushAsync();
        await stream.DisposeAsync();
        _lock.Dispose();
        signal.Pulse();
    }
}

/// <summary>The JSON of a job's log lines (camelCase, nulls left out).</summary>
internal static class JobLogJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>One NDJSON line.</summary>
    public static byte[] Line(JobLogEntry entry) => [.. JsonSerializer.SerializeToUtf8Bytes(entry, Options), (byte)'\n'];
}
