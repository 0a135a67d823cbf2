using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using OpenSpe.Server.Monitoring.Alerts;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// A webhook receiver on loopback for the alert tests (EHDSR-9, TIR-13, TIR-27): it takes the server's alert posts, checks
/// each one's HMAC-SHA256 signature over the exact body against <see cref="Secret"/>, and hands them out in order; it can
/// refuse the first posts (503) to exercise the retries.
/// </summary>
internal sealed class AlertWebhookReceiver : IAsyncDisposable
{
    /// <summary>The secret the servers under test sign with (<see cref="Settings"/>).</summary>
    public const string Secret = "an-alert-webhook-secret-of-forty-chars!!";

    private readonly Channel<(string Body, string Signature)> _received = Channel.CreateUnbounded<(string, string)>();
    private readonly WebApplication _app;
    private int _failFirst;

    private AlertWebhookReceiver(WebApplication app) => _app = app;

    /// <summary>The posts left to refuse with 503 before accepting.</summary>
    public int FailFirst
    {
        get => Volatile.Read(ref _failFirst);
        set => Volatile.Write(ref _failFirst, value);
    }

    /// <summary>True when a post was received and not yet read.</summary>
    public bool HasPending => _received.Reader.TryPeek(out _);

    public static async Task<AlertWebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var receiver = new AlertWebhookReceiver(builder.Build());
        receiver._app.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            if (Interlocked.Decrement(ref receiver._failFirst) >= 0)
            {
                return Results.StatusCode(503);
            }

            await receiver._received.Writer.WriteAsync((body, context.Request.Headers[AlertDispatcher.SignatureHeader].ToString()));
            return Results.NoContent();
        });
        await receiver._app.StartAsync();
        return receiver;
    }

    /// <summary>The settings that point a server at this receiver, added to <paramref name="settings"/>.</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? settings = null) => new(settings ?? new Dictionary<string, string?>())
    {
        ["Alerts:WebhookUrl"] = _app.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal)) + "/hook",
        ["Alerts:WebhookSecret"] = Secret,
    };

    /// <summary>
    /// The next post of <paramref name="rule"/> (any rule when null; others are skipped), within <paramref name="timeout"/>
    /// (60 s by default). Every post read on the way must carry a valid signature.
    /// </summary>
    public async Task<JsonElement> NextAsync(string? rule = null, TimeSpan? timeout = null)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var (body, signature) = await _received.Reader.ReadAsync(cancel.Token);
            // Note: checked for every post, so that no alert reaches the receiver unsigned or signed over other bytes.
            Assert.Equal(AlertDispatcher.Sign(Encoding.UTF8.GetBytes(body), Secret), signature);
            var alert = JsonDocument.Parse(body).RootElement;
            if (rule is null || alert.GetProperty("rule").GetString() == rule)
            {
                return alert;
            }
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
