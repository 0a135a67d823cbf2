using System.Buffers.Binary;
using System.IO.Pipelines;
using OpenSpe.Crypt4gh;
using OpenSpe.Server.Vault;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// The recording of one desktop session: every byte the gateway forwards from the desktop to the browser, with its time,
/// encrypted to the project's public key (Crypt4GH) into the project's object space at
/// <c>projects/{projectId}/recordings/desktop/{sessionId}.c4gh</c>, so only the project key (held by the vault) opens it and
/// erasing the project erases it. Format of the plaintext: the line <c>OPENSPE-RFB-RECORDING 1\n</c>, then one record per
/// forwarded chunk: 8 bytes big-endian microseconds since the session opened, 4 bytes big-endian length, the bytes.
/// </summary>
/// <remarks>
/// Note: the gateway writes each chunk here before it sends it, and a failed write ends the session, so nothing is shown
/// that is not recorded (fail closed). The object becomes visible when the session ends (the store's write is atomic).
/// A terminal session's recording (<see cref="StartTerminalAsync"/>) is the same, under <c>recordings/terminal/</c>, with the
/// line <c>OPENSPE-TTY-RECORDING 1\n</c> and one more byte after the length in each record: which stream the bytes are
/// (<see cref="TerminalOutput"/>, <see cref="TerminalInput"/>, <see cref="TerminalResize"/>).
/// </remarks>
internal sealed class DesktopRecording : IAsyncDisposable
{
    /// <summary>The first line of a desktop recording's plaintext.</summary>
    public static readonly byte[] Magic = "OPENSPE-RFB-RECORDING 1\n"u8.ToArray();

    /// <summary>The first line of a terminal recording's plaintext.</summary>
    public static readonly byte[] TerminalMagic = "OPENSPE-TTY-RECORDING 1\n"u8.ToArray();

    /// <summary>A terminal record's stream: bytes the terminal showed the browser.</summary>
    public const byte TerminalOutput = (byte)'o';

    /// <summary>A terminal record's stream: bytes from the browser that reached the terminal (after the paste filter).</summary>
    public const byte TerminalInput = (byte)'i';

    /// <summary>A terminal record's stream: a window size change, 2 bytes rows and 2 bytes columns, big-endian.</summary>
    public const byte TerminalResize = (byte)'r';

    private readonly Pipe _pipe = new();
    private readonly Crypt4ghEncryptingStream _encryptor;
    private readonly Task<StoredObject> _store;
    private readonly TimeProvider _time;
    private readonly long _maxBytes;
    private readonly long _started;
    private readonly byte[] _header = new byte[13];
    private bool _completed;
    private bool _full;

    private DesktopRecording(IObjectStore objects, Crypt4ghPublicKey projectKey, string key, long maxBytes, TimeProvider time)
    {
        Key = key;
        _time = time;
        _maxBytes = maxBytes;
        _started = time.GetTimestamp();
        var reader = _pipe.Reader;
        _store = Task.Run(async () =>
        {
            try
            {
                return await objects.PutAsync(key, reader.AsStream(leaveOpen: true));
            }
            catch (Exception ex)
            {
                // Note: the writer's next flush throws this, so the session ends at its next chunk.
                await reader.CompleteAsync(ex);
                throw;
            }
        });
        _encryptor = new Crypt4ghEncryptingStream(_pipe.Writer.AsStream(leaveOpen: true), [projectKey]);
    }

    /// <summary>The object key.</summary>
    public string Key { get; }

    /// <summary>Plaintext bytes recorded (framing included).</summary>
    public long Bytes { get; private set; }

    /// <summary>The object key of a desktop session's recording.</summary>
    public static string KeyFor(string projectId, string sessionId) => KeyFor(projectId, "desktop", sessionId);

    /// <summary>The object key of a terminal session's recording.</summary>
    public static string TerminalKeyFor(string projectId, string sessionId) => KeyFor(projectId, "terminal", sessionId);

    /// <summary>Starts a recording for the desktop session that holds at most <paramref name="maxBytes"/> plaintext bytes.</summary>
    public static Task<DesktopRecording> StartAsync(IObjectStore objects, IProjectKeyStore keys, string projectId, string sessionId, long maxBytes, TimeProvider time,
        CancellationToken cancellationToken) =>
        StartAsync(objects, keys, projectId, KeyFor(projectId, sessionId), Magic, maxBytes, time, cancellationToken);

    /// <summary>Starts a recording for the terminal session that holds at most <paramref name="maxBytes"/> plaintext bytes.</summary>
    public static Task<DesktopRecording> StartTerminalAsync(IObjectStore objects, IProjectKeyStore keys, string projectId, string sessionId, long maxBytes,
        TimeProvider time, CancellationToken cancellationToken) =>
        StartAsync(objects, keys, projectId, TerminalKeyFor(projectId, sessionId), TerminalMagic, maxBytes, time, cancellationToken);

    /// <summary>
    /// Records one chunk of a desktop session; throws <see cref="RecordingFullException"/> when the chunk would pass the recording's
    /// limit (nothing of it is written), or another exception when it cannot be written (the session must end either way).
    /// </summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken) => WriteRecordAsync(null, chunk, cancellationToken);

    /// <summary>Records one chunk of a terminal session's <paramref name="stream"/>; throws when it cannot be written (the session must then end).</summary>
    public ValueTask WriteAsync(byte stream, ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken) => WriteRecordAsync(stream, chunk, cancellationToken);

    private static string KeyFor(string projectId, string kind, string sessionId) => $"{ProjectIds.ObjectPrefix(projectId)}recordings/{kind}/{sessionId}.c4gh";

    private static async Task<DesktopRecording> StartAsync(IObjectStore objects, IProjectKeyStore keys, string projectId, string key, byte[] magic, long maxBytes,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var projectKey = await keys.GetPublicKeyAsync(projectId, cancellationToken);
        var recording = new DesktopRecording(objects, projectKey, key, maxBytes, time);
        await recording.WriteRawAsync(magic, cancellationToken);
        return recording;
    }

    private async ValueTask WriteRecordAsync(byte? stream, ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        if (_store.IsFaulted)
        {
            await _store;
        }

        var headerLength = stream is null ? 12 : 13;
        if (_full || Bytes + headerLength + chunk.Length > _maxBytes)
        {
            // Note: once full it stays full, so a smaller chunk after a refused one is not recorded out of order.
            _full = true;
            // Note: the session ends here rather than going on unrecorded (fail closed); what was recorded is kept whole.
            throw new RecordingFullException(_maxBytes);
        }

        var micros = (long)_time.GetElapsedTime(_started).TotalMicroseconds;
        BinaryPrimitives.WriteInt64BigEndian(_header, micros);
        BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(8), chunk.Length);
        _header[12] = stream ?? 0;
        await WriteRawAsync(_header.AsMemory(0, headerLength), cancellationToken);
        await WriteRawAsync(chunk, cancellationToken);
    }

    /// <summary>Finishes the file and stores it; returns what was stored.</summary>
    public async Task<StoredObject> CompleteAsync(CancellationToken cancellationToken)
    {
        _completed = true;
        await _encryptor.CompleteAsync(cancellationToken);
        await _pipe.Writer.CompleteAsync();
        return await _store;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_completed)
        {
            await _encryptor.DisposeAsync();
            return;
        }

        // Nothing is stored of an abandoned recording: the reader sees the failure and the store discards its temporary file.
        await _pipe.Writer.CompleteAsync(new OperationCanceledException("The recording was abandoned."));
        try
        {
            await _encryptor.DisposeAsync();
        }
        catch (InvalidOperationException)
        {
            // Its last segment had nowhere to go: the pipe was completed above.
        }

        try
        {
            await _store;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
        }
    }

    private async ValueTask WriteRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _encryptor.WriteAsync(bytes, cancellationToken);
        Bytes += bytes.Length;
    }
}

/// <summary>A session's recording reached its limit (<c>Desktop:MaxRecordingBytes</c>, <c>Terminal:MaxRecordingBytes</c>); the session ends.</summary>
internal sealed class RecordingFullException(long maxBytes) : Exception($"The session's recording reached its limit of {maxBytes} bytes.");
