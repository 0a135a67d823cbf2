using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OpenSpe.Server.Tests.Terminal;

/// <summary>
/// A terminal client over a real WebSocket: receives in the background (binary frames: terminal output; text frames: control),
/// sends keys and control messages, and waits for output or for the close.
/// </summary>
public sealed class TerminalTestClient : IDisposable
{
    private readonly MemoryStream _output = new();
    private readonly List<string> _control = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Task _receiving;

    public TerminalTestClient(ClientWebSocket socket)
    {
        Socket = socket;
        _receiving = ReceiveAsync();
    }

    public ClientWebSocket Socket { get; }

    /// <summary>Every binary byte received so far.</summary>
    public byte[] Received
    {
        get
        {
            lock (_gate)
            {
                return _output.ToArray();
            }
        }
    }

    /// <summary>The output so far as text.</summary>
    public string Text => Encoding.UTF8.GetString(Received);

    /// <summary>The text frames received so far.</summary>
    public IReadOnlyList<string> Control
    {
        get
        {
            lock (_gate)
            {
                return [.. _control];
            }
        }
    }

    /// <summary>The close status once the server closed.</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public Task SendAsync(string keys) => SendAsync(Encoding.UTF8.GetBytes(keys));

    public Task SendAsync(byte[] bytes) => Socket.SendAsync(bytes, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);

    public Task SendControlAsync(string json) => Socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);

    public Task ResizeAsync(int rows, int cols) => SendControlAsync(JsonSerializer.Serialize(new { type = "resize", cols, rows }));

    /// <summary>Waits until the output matches <paramref name="pattern"/>; returns the match.</summary>
    public async Task<Match> WaitForAsync(string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (regex.Match(Text) is { Success: true } match)
            {
                return match;
            }

            Assert.True(CloseStatus is null && !_receiving.IsCompleted, $"closed ({CloseStatus}) before '{pattern}' came; output: {Text}");
            try
            {
                await _changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"'{pattern}' did not come; output: {Text}");
            }
        }
    }

    /// <summary>Closes from this side and waits for the server's answer (the receiving loop reads it: one reader at a time).</summary>
    public async Task CloseAsync()
    {
        await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, TestContext.Current.CancellationToken);
        await WaitForCloseAsync();
    }

    /// <summary>Waits for the gateway's hello (sent once the session is registered and running).</summary>
    public async Task WaitForHelloAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (Control.Count == 0)
        {
            Assert.True(CloseStatus is null && !_receiving.IsCompleted, $"closed ({CloseStatus}) before the hello");
            await _changed.WaitAsync(timeout.Token);
        }
    }

    /// <summary>Waits for the server's close and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync()
    {
        await _receiving.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return CloseStatus;
    }

    public void Dispose()
    {
        Socket.Dispose();
        _changed.Dispose();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var received = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = received.CloseStatus;
                    if (Socket.State == WebSocketState.CloseReceived)
                    {
                        await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    return;
                }

                lock (_gate)
                {
                    if (received.MessageType == WebSocketMessageType.Binary)
                    {
                        _output.Write(buffer, 0, received.Count);
                    }
                    else
                    {
                        _control.Add(Encoding.UTF8.GetString(buffer, 0, received.Count));
                    }
                }

                _changed.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            try
            {
                _changed.Release();
            }
            catch (ObjectDisposedException)
            {
                // The test disposed the client while it was still receiving.
            }
        }
    }
}
