using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using OpenSpe.Core.Desktop;

namespace OpenSpe.Server.Desktop;

/// <summary>
/// One desktop session: pumps the browser's WebSocket and the desktop's VNC socket through the RFB filter (RFC 6143) both
/// ways, so the permit is enforced here and not by the VNC server (TIR-25): only what the filter emits is forwarded, every
/// byte shown is recorded first (fail closed), the idle timer restarts on keyboard and pointer input only (TIR-24), and the
/// first of these ends the session: the browser closing, the desktop ending, a filter close reason, the idle timeout, the
/// maximum length, a halt, the end of access, a recording or audit failure.
/// </summary>
internal sealed class DesktopSession : IRfbSessionObserver, IDisposable
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(2);

    private readonly RfbSession _rfb;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource<DesktopEnd> _end = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<RfbClipboardDrop> _drops = Channel.CreateUnbounded<RfbClipboardDrop>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeSpan _idleTimeout;
    private readonly ITimer _idle;
    private readonly ITimer _maxLength;

    public DesktopSession(RfbPolicy policy, TimeSpan idleTimeout, TimeSpan maxLength, TimeProvider time)
    {
        _rfb = new RfbSession(policy, this);
        _time = time;
        _idleTimeout = idleTimeout;
        _idle = time.CreateTimer(_ => End(DesktopEnd.Idle), null, idleTimeout, Timeout.InfiniteTimeSpan);
        _maxLength = time.CreateTimer(_ => End(DesktopEnd.MaxLength), null, maxLength, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Totals of the browser's side (bytes in and forwarded, key and pointer events, clipboard).</summary>
    public RfbCounters ClientCounters => _rfb.ClientToServer.Counters;

    /// <summary>Totals of the desktop's side.</summary>
    public RfbCounters ServerCounters => _rfb.ServerToClient.Counters;

    /// <summary>The dropped clipboard attempts, in order, for the audit (sizes and directions only, never contents).</summary>
    public ChannelReader<RfbClipboardDrop> ClipboardDrops => _drops.Reader;

    /// <summary>Ends the session for <paramref name="end"/> unless it already ended (the first reason wins).</summary>
    public void End(DesktopEnd end) => _end.TrySetResult(end);

    /// <summary>Completes when the session's end is decided (before the sockets are closed).</summary>
    public Task<DesktopEnd> Ended => _end.Task;

    void IRfbSessionObserver.ClipboardDropped(RfbClipboardDrop drop) => _drops.Writer.TryWrite(drop);

    /// <summary>Runs the session until it ends; closes the WebSocket with the end's status and returns the end.</summary>
    public async Task<DesktopEnd> RunAsync(WebSocket browser, Stream vnc, DesktopRecording recording)
    {
        using var stopSending = new CancellationTokenSource();
        var fromBrowser = PumpFromBrowserAsync(browser, vnc);
        var toBrowser = PumpToBrowserAsync(browser, vnc, recording, stopSending.Token);
        var end = await _end.Task;
        _drops.Writer.TryComplete();

        await stopSending.CancelAsync();
        await vnc.DisposeAsync();
        await toBrowser;
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

    private async Task PumpFromBrowserAsync(WebSocket browser, Stream vnc)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var output = new ArrayBufferWriter<byte>(BufferSize);
        try
        {
            while (true)
            {
                var received = await browser.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    End(DesktopEnd.ClientClosed);
                    return;
                }

                if (_end.Task.IsCompleted)
                {
                    continue;
                }

                if (received.MessageType != WebSocketMessageType.Binary)
                {
                    End(DesktopEnd.TextFrame);
                    continue;
                }

                output.ResetWrittenCount();
                var result = _rfb.ClientToServer.Feed(buffer.AsSpan(0, received.Count), output);
                if (result.InputSeen)
                {
                    _idle.Change(_idleTimeout, Timeout.InfiniteTimeSpan);
                }

                if (output.WrittenCount > 0)
                {
                    await vnc.WriteAsync(output.WrittenMemory);
                    await vnc.FlushAsync();
                }

                if (result.IsClosed)
                {
                    End(DesktopEnd.Filter(result.CloseReason));
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The browser went away, or the desktop's socket closed under a write after the end was decided.
            End(DesktopEnd.ClientGone);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task PumpToBrowserAsync(WebSocket browser, Stream vnc, DesktopRecording recording, CancellationToken stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var output = new ArrayBufferWriter<byte>(BufferSize);
        try
        {
            while (true)
            {
                var read = await vnc.ReadAsync(buffer.AsMemory(0, BufferSize), stop);
                if (read == 0)
                {
                    End(DesktopEnd.DesktopEnded);
                    return;
                }

                output.ResetWrittenCount();
                var result = _rfb.ServerToClient.Feed(buffer.AsSpan(0, read), output);
                if (output.WrittenCount > 0)
                {
                    try
                    {
                        // Note: recorded before it is sent, so nothing reaches the screen unrecorded (fail closed).
                        await recording.WriteAsync(output.WrittenMemory, stop);
                    }
                    catch (RecordingFullException)
                    {
                        End(DesktopEnd.RecordingFull);
                        return;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        RecordingError = ex;
                        End(DesktopEnd.RecordingFailed);
                        return;
                    }

                    await browser.SendAsync(output.WrittenMemory, WebSocketMessageType.Binary, endOfMessage: true, stop);
                }

                if (result.IsClosed)
                {
                    End(DesktopEnd.Filter(result.CloseReason));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            StreamError ??= _end.Task.IsCompleted ? null : ex;
            End(_end.Task.IsCompleted ? DesktopEnd.DesktopEnded : browser.State == WebSocketState.Open ? DesktopEnd.DesktopEnded : DesktopEnd.ClientGone);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Why the recording failed, when it did (for the log).</summary>
    public Exception? RecordingError { get; private set; }

    /// <summary>What broke the desktop-to-browser stream before the session's end was decided, if anything did (for the log).</summary>
    public Exception? StreamError { get; private set; }

    /// <inheritdoc />
    public void Dispose()
    {
        _idle.Dispose();
        _maxLength.Dispose();
    }
}
