using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// Records each fired alert as a <c>security.alert</c> audit record and posts it to the webhook, signed with
/// HMAC-SHA256 over the body (header <c>Spe-Signature: sha256=HEX</c>) and retried with doubling waits.
/// </summary>
/// <remarks>
/// Note: recording (audit record, alert list) and notifying (webhook, e-mail) run in two loops joined by a queue. Notifying
/// one alert can take minutes (a webhook that is down is retried with doubling waits); were it on the recording loop, every
/// alert fired meanwhile would wait unrecorded behind it, and once the evaluator's queue filled, the oldest would be dropped
/// without ever reaching the audit log, so a flood of alerts while the webhook is down would hide the one that matters.
/// </remarks>
internal sealed partial class AlertDispatcher(AlertEvaluator evaluator, IAuditLog audit, IHttpClientFactory http, IOptions<AlertOptions> options,
    TimeProvider time, IServiceScopeFactory scopes, AlertMailer mailer, ILogger<AlertDispatcher> logger) : BackgroundService
{
    /// <summary>Recorded alerts waiting for their webhook post and e-mail; bounded, since the receivers may be down for long.</summary>
    private const int NotificationQueue = 1000;

    /// <summary>The named HTTP client of the webhook.</summary>
    public const string HttpClientName = "alerts-webhook";

    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "Spe-Signature";

    /// <summary>The resource type of the records this dispatcher writes (a rule's firing).</summary>
    public const string RuleResource = "alert-rule";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Note: a notification dropped because the queue is full is logged; the alert itself is already in the audit log and the list.
        var notifications = Channel.CreateBounded<(FiredAlert Alert, long? Sequence)>(
            new BoundedChannelOptions(NotificationQueue) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            dropped => LogNotificationDropped(logger, dropped.Alert.Rule, dropped.Alert.Key));
        var notifier = NotifyLoopAsync(notifications.Reader, stoppingToken);
        try
        {
            await RecordLoopAsync(notifications.Writer, stoppingToken);
        }
        finally
        {
            notifications.Writer.TryComplete();
            await notifier;
        }
    }

    /// <summary>Writes each fired alert to the audit log and the alert list as it comes, never waiting on a receiver.</summary>
    private async Task RecordLoopAsync(ChannelWriter<(FiredAlert Alert, long? Sequence)> notifications, CancellationToken stoppingToken)
    {
        await foreach (var alert in evaluator.Fired.Reader.ReadAllAsync(stoppingToken))
        {
            LogFired(logger, alert.Rule, alert.GroupBy, alert.Key, alert.Value);
            var sequence = alert.RecordedAs;
            if (sequence is null)
            {
                try
                {
                    sequence = await audit.AppendAsync(Entry(alert), stoppingToken);
                }
                catch (Exception ex) when (ex is AuditUnavailableException or InvalidOperationException)
                {
                    // Note: an alert about the log failing cannot be written to it; the webhook still carries it.
                    LogNotAudited(logger, alert.Rule);
                }
            }

            await StoreAsync(alert, sequence, stoppingToken);
            notifications.TryWrite((alert, sequence));
        }
    }

    /// <summary>Posts and e-mails each recorded alert in turn, with the webhook's retries.</summary>
    private async Task NotifyLoopAsync(ChannelReader<(FiredAlert Alert, long? Sequence)> notifications, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (alert, sequence) in notifications.ReadAllAsync(stoppingToken))
            {
                // Note: webhook and e-mail run beside each other, so a slow mail server does not hold back the webhook;
                // neither is on a request's path, and both come after the audit record.
                await Task.WhenAll(NotifyAsync(alert, sequence, stoppingToken), mailer.SendAsync(alert, sequence, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Keeps the alert for <c>GET /api/v1/alerts</c>; a database that cannot take it leaves the audit record and the notifications.</summary>
    private async Task StoreAsync(FiredAlert alert, long? sequence, CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var database = scope.ServiceProvider.GetRequiredService<SpeDbContext>();
            database.Add(new AlertEntity
            {
                Id = "alt-" + Guid.NewGuid().ToString("N")[..16],
                Rule = alert.Rule,
                GroupBy = alert.GroupBy,
                Key = alert.Key.Length > 200 ? alert.Key[..200] : alert.Key,
                Value = alert.Value,
                Threshold = alert.Threshold,
                WindowSeconds = (long)alert.Window.TotalSeconds,
                FiredAt = alert.FiredAt,
                Description = alert.Description is { Length: > 1000 } d ? d[..1000] : alert.Description,
                ProjectId = alert.ProjectId,
                AuditSequence = sequence,
                Revision = Guid.NewGuid(),
            });
            await database.SaveChangesAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
        {
            LogNotStored(logger, alert.Rule, ex.GetType().Name);
        }
    }

    /// <summary>The body posted for <paramref name="alert"/> (also what is signed).</summary>
    public static byte[] Body(FiredAlert alert, long? auditSequence) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        type = "security.alert",
        rule = alert.Rule,
        groupBy = alert.GroupBy,
        key = alert.Key,
        value = alert.Value,
        threshold = alert.Threshold,
        windowSeconds = (long)alert.Window.TotalSeconds,
        firedAt = alert.FiredAt.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        description = alert.Description,
        auditSequence,
    });

    /// <summary>The signature header's value: <c>sha256=</c> and the lowercase hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    public static string Sign(byte[] body, string secret) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static AuditEntry Entry(FiredAlert alert) => new(AuditActor.System, "security.alert", new AuditResource(RuleResource, alert.Rule, alert.ProjectId),
        AuditOutcome.Denied, null, null, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kind"] = alert.Rule,
            ["groupBy"] = alert.GroupBy,
            ["key"] = alert.Key.Length > 200 ? alert.Key[..200] : alert.Key,
            ["value"] = alert.Value.ToString(CultureInfo.InvariantCulture),
            ["threshold"] = alert.Threshold.ToString(CultureInfo.InvariantCulture),
            ["windowSeconds"] = ((long)alert.Window.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        });

    private async Task NotifyAsync(FiredAlert alert, long? sequence, CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.WebhookUrl is not { } url || settings.WebhookSecret is not { } secret)
        {
            return;
        }

        var body = Body(alert, sequence);
        var wait = TimeSpan.FromSeconds(1);
        for (var attempt = 1; attempt <= settings.WebhookAttempts; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(body, secret));
                using var response = await http.CreateClient(HttpClientName).SendAsync(request, stoppingToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                LogWebhookRefused(logger, alert.Rule, (int)response.StatusCode, attempt);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                LogWebhookUnreachable(logger, alert.Rule, attempt, ex.Message);
            }

            if (attempt < settings.WebhookAttempts)
            {
                await Task.Delay(wait, time, stoppingToken);
                wait *= 2;
            }
        }

        LogWebhookGaveUp(logger, alert.Rule, settings.WebhookAttempts);
    }

    [LoggerMessage(EventId = 23017, Level = LogLevel.Error, Message = "SPE23017 alert {Rule} for {Key} was not posted nor e-mailed: too many alerts were waiting for the receivers; it is in the audit log and the alert list")]
    private static partial void LogNotificationDropped(ILogger logger, string rule, string key);

    [LoggerMessage(EventId = 23012, Level = LogLevel.Error, Message = "SPE23012 alert {Rule} could not be stored for listing ({Error}); its audit record and notifications stand")]
    private static partial void LogNotStored(ILogger logger, string rule, string error);

    [LoggerMessage(EventId = 23001, Level = LogLevel.Warning, Message = "SPE23001 alert {Rule} fired for {GroupBy} {Key} at {Value}")]
    private static partial void LogFired(ILogger logger, string rule, string groupBy, string key, long value);

    [LoggerMessage(EventId = 23002, Level = LogLevel.Error, Message = "SPE23002 alert {Rule} could not be written to the audit log")]
    private static partial void LogNotAudited(ILogger logger, string rule);

    [LoggerMessage(EventId = 23003, Level = LogLevel.Warning, Message = "SPE23003 alert webhook answered {Status} for {Rule} (attempt {Attempt})")]
    private static partial void LogWebhookRefused(ILogger logger, string rule, int status, int attempt);

    [LoggerMessage(EventId = 23004, Level = LogLevel.Warning, Message = "SPE23004 alert webhook unreachable for {Rule} (attempt {Attempt}): {Reason}")]
    private static partial void LogWebhookUnreachable(ILogger logger, string rule, int attempt, string reason);

    [LoggerMessage(EventId = 23005, Level = LogLevel.Error, Message = "SPE23005 alert webhook gave up on {Rule} after {Attempts} attempts")]
    private static partial void LogWebhookGaveUp(ILogger logger, string rule, int attempts);
}
