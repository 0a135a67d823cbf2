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
/// </remarks>
internal sealed class DesktopRecording : IAsyncDisposable
{
    /// <summary>The first line of a recording's plaintext.</summary>
    public static readonly byte[] Magic = "OPENSPE-RFB-RECORDING 1\n"u8.ToArray();

    private readonly Pipe _pipe = new();
    private readonly Crypt4ghEncryptingStream _encryptor;
    private readonly Task<StoredObject> _store;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly byte[] _header = new byte[12];
    private bool _completed;

    private DesktopRecording(IObjectStore objects, Crypt4ghPublicKey projectKey, string key, TimeProvider time)
    {
        Key = key;
        _time = time;
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

    /// <summary>The object key of a session's recording.</summary>
    public static string KeyFor(string projectId, string sessionId) => $"{ProjectIds.ObjectPrefix(projectId)}recordings/desktop/{sessionId}.c4gh";

    /// <summary>Starts a recording for the session.</summary>
    public static async Task<DesktopRecording> StartAsync(IObjectStore objects, IProjectKeyStore keys, string projectId, string sessionId, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var projectKey = await keys.GetPublicKeyAsync(projectId, cancellationToken);
        var recording = new DesktopRecording(objects, projectKey, KeyFor(projectId, sessionId), time);
        await recording.WriteRawAsync(Magic, cancellationToken);
        return recording;
    }

    /// <summary>Records one chunk; throws when it cannot be written (the session must then end).</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        if (_store.IsFaulted)
        {
            await _store;
        }

        var micros = (long)_time.GetElapsedTime(_started).TotalMicroseconds;
        BinaryPrimitives.WriteInt64BigEndian(_header, micros);
        BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(8), chunk.Length);
        await WriteRawAsync(_header, cancellationToken);
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
