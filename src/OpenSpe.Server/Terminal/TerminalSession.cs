using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using OpenSpe.Core.Terminal;
using OpenSpe.Server.Desktop;
using OpenSpe.Workspaces;

namespace OpenSpe.Server.Terminal;

/// <summary>
/// One terminal session: pumps the browser's WebSocket and the PTY helper in the sandbox both ways. Binary frames from the browser
/// pass the paste filter (the permit's clipboard <c>in</c>), are recorded and reach the terminal; text frames are control messages
/// (<see cref="TerminalControl"/>); every byte the terminal shows is recorded before it is sent (fail closed). The idle timer
/// restarts on input bytes only (TIR-24). The first of these ends the session: the browser closing, the shell ending, a malformed
/// or oversized message, the idle timeout, the maximum length, a halt, the end of access, a recording or audit failure.
/// </summary>
internal sealed class TerminalSession : IDisposable
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    private readonly BracketedPasteFilter _paste;
    private readonly int _maxInput;
    private readonly TaskCompletionSource<DesktopEnd> _end = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<long> _drops = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeSpan _idleTimeout;
    private readonly ITimer _idle;
    private readonly ITimer _maxLength;

    // Note: both pumps record (input and output), and a recording takes one writer at a time.
    private readonly SemaphoreSlim _recordingLock = new(1, 1);

    public TerminalSession(BracketedPasteFilter paste, TimeSpan idleTimeout, TimeSpan maxLength, int maxInputMessageBytes, TimeProvider time)
    {
        _paste = paste;
        _maxInput = maxInputMessageBytes;
        _idleTimeout = idleTimeout;
        _idle = time.CreateTimer(_ => End(DesktopEnd.Idle), null, idleTimeout, Timeout.InfiniteTimeSpan);
        _maxLength = time.CreateTimer(_ => End(DesktopEnd.MaxLength), null, maxLength, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Bytes received from the browser in binary frames.</summary>
    public long BytesFromBrowser { get; private set; }

    /// <summary>Bytes that reached the terminal (after the paste filter).</summary>
    public long BytesToTerminal { get; private set; }

    /// <summary>Bytes the terminal showed the browser.</summary>
    public long BytesToBrowser { get; private set; }

    /// <summary>Window size changes applied.</summary>
    public long Resizes { get; private set; }

    /// <summary>The paste filter (its counts go to the audit).</summary>
    public BracketedPasteFilter Paste => _paste;

    /// <summary>The sizes of the dropped pastes, in order, for the audit (never their contents).</summary>
    public ChannelReader<long> PasteDrops => _drops.Reader;

    /// <summary>Why the recording failed, when it did (for the log).</summary>
    public Exception? RecordingError { get; private set; }

    /// <summary>Ends the session for <paramref name="end"/> unless it already ended (the first reason wins).</summary>
    public void End(DesktopEnd end) => _end.TrySetResult(end);

    /// <summary>Runs the session until it ends: sends <paramref name="hello"/>, pumps, stops the shell, closes the WebSocket with the end's status.</summary>
    public async Task<DesktopEnd> RunAsync(WebSocket browser, IWorkspaceProcess shell, DesktopRecording recording, ReadOnlyMemory<byte> hello)
    {
        using var stop = new CancellationTokenSource();
        await browser.SendAsync(hello, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var fromBrowser = PumpFromBrowserAsync(browser, shell.StandardInput, recording);
        var toBrowser = PumpToBrowserAsync(browser, shell.StandardOutput, recording, stop.Token);
        var errors = shell.StandardError.CopyToAsync(Stream.Null, CancellationToken.None);
        var exited = shell.Completion.ContinueWith(_ => End(DesktopEnd.ShellEnded), TaskScheduler.Default);
        var end = await _end.Task;
        _drops.Writer.TryComplete();

        // Note: the shell goes first, so nothing runs on after the session is decided over (a halt, the end of access).
        await shell.StopAsync(StopReasonOf(end), CancellationToken.None);
        await stop.CancelAsync();
        await toBrowser;
        await Task.WhenAll(errors, exited).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (browser.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = new CancellationTokenSource(CloseHandshakeTimeout);
            try
            {
                await browser.CloseOutputAsync(end.Status, end.Description, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
            }
        }

        // Note: the browser's close answer ends the receiving pump; one that never answers is cut off.
        if (await Task.WhenAny(fromBrowser, Task.Delay(CloseHandshakeTimeout)) != fromBrowser)
        {
            browser.Abort();
        }

        await fromBrowser;
        return end;
    }

    /// <summary>How the runtime names the stop of a session that ended for <paramref name="end"/>.</summary>
    public static WorkspaceStopReason StopReasonOf(DesktopEnd end) =>
        end == DesktopEnd.Halted ? WorkspaceStopReason.Halted
        : end == DesktopEnd.AccessEnded ? WorkspaceStopReason.AccessRevoked
        : end == DesktopEnd.Idle || end == DesktopEnd.MaxLength ? WorkspaceStopReason.TimedOut
        : end == DesktopEnd.Shutdown ? WorkspaceStopReason.Shutdown
        : WorkspaceStopReason.Requested;

    private async Task PumpFromBrowserAsync(WebSocket browser, Stream terminal, DesktopRecording recording)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_maxInput + 1);
        var output = new ArrayBufferWriter<byte>(BufferSize);
        var dropped = new List<long>();
        try
        {
            while (true)
            {
                // Note: one whole message at a time, bounded: a message longer than the bound is never buffered whole.
                var length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await browser.ReceiveAsync(buffer.AsMemory(length, _maxInput + 1 - length), CancellationToken.None);
                    length += received.Count;
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close && length <= _maxInput);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    End(DesktopEnd.ClientClosed);
                    return;
                }

                if (_end.Task.IsCompleted)
                {
                    continue;
                }

                if (received.MessageType == WebSocketMessageType.Text)
                {
                    if (length > OpenSpe.Contracts.TerminalProtocol.MaxControlMessageBytes)
                    {
                        End(DesktopEnd.MessageTooBig);
                    }
                    else if (TerminalControl.TryParseResize(buffer.AsSpan(0, length), out var rows, out var cols))
                    {
                        var body = TerminalPty.ResizeBody(rows, cols);
                        await RecordAsync(recording, DesktopRecording.TerminalResize, body);
                        await TerminalPty.WriteFrameAsync(terminal, TerminalPty.Resize, body, CancellationToken.None);
                        Resizes++;
                    }
                    else
                    {
                        End(DesktopEnd.ControlInvalid);
                    }

                    continue;
                }

                if (length > _maxInput)
                {
                    End(DesktopEnd.MessageTooBig);
                    continue;
                }

                BytesFromBrowser += length;
                if (length > 0)
                {
                    _idle.Change(_idleTimeout, Timeout.InfiniteTimeSpan);
                }

                output.ResetWrittenCount();
                dropped.Clear();
                _paste.Feed(buffer.AsSpan(0, length), output, dropped);
                foreach (var size in dropped)
                {
                    _drops.Writer.TryWrite(size);
                }

                if (output.WrittenCount > 0)
                {
                    // Note: recorded before the terminal gets it, so nothing typed into the project goes unrecorded (fail closed).
                    await RecordAsync(recording, DesktopRecording.TerminalInput, output.WrittenMemory);
                    await TerminalPty.WriteFrameAsync(terminal, TerminalPty.Input, output.WrittenMemory, CancellationToken.None);
                    BytesToTerminal += output.WrittenCount;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The browser went away, or the helper's input closed under a write after the end was decided.
            End(DesktopEnd.ClientGone);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task PumpToBrowserAsync(WebSocket browser, Stream terminal, DesktopRecording recording, CancellationToken stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var read = await terminal.ReadAsync(buffer.AsMemory(0, BufferSize), stop);
                if (read == 0)
                {
                    End(DesktopEnd.ShellEnded);
                    return;
                }

                // Note: recorded before it is sent, so nothing reaches the screen unrecorded (fail closed).
                await RecordAsync(recording, DesktopRecording.TerminalOutput, buffer.AsMemory(0, read));
                if (_end.Task.IsCompleted)
                {
                    return;
                }

                await browser.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, stop);
                BytesToBrowser += read;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            End(browser.State == WebSocketState.Open ? DesktopEnd.ShellEnded : DesktopEnd.ClientGone);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask RecordAsync(DesktopRecording recording, byte stream, ReadOnlyMemory<byte> bytes)
    {
        await _recordingLock.WaitAsync();
        try
        {
            await recording.WriteAsync(stream, bytes, CancellationToken.None);
        }
        catch (RecordingFullException ex)
        {
            End(DesktopEnd.RecordingFull);
            throw new IOException("The recording is full.", ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            RecordingError = ex;
            End(DesktopEnd.RecordingFailed);
            throw new IOException("The recording failed.", ex);
        }
        finally
        {
            _recordingLock.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _idle.Dispose();
        _maxLength.Dispose();
        _recordingLock.Dispose();
    }
}
