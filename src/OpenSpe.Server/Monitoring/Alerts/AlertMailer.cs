using System.Globalization;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>
/// Sends each fired alert by e-mail when <c>Alerts:Smtp:Host</c> is set (EHDSR-9, TIR-13). STARTTLS is required unless the
/// server is on this machine; the message holds the rule, key, value and description, never a credential or secret.
/// </summary>
internal sealed partial class AlertMailer(IOptions<AlertOptions> options, ILogger<AlertMailer> logger)
{
    /// <summary>Sends <paramref name="alert"/>; a failure is logged, never thrown (the alert is already audited and stored).</summary>
    public async Task SendAsync(FiredAlert alert, long? auditSequence, CancellationToken cancellationToken)
    {
        var smtp = options.Value.Smtp;
        if (string.IsNullOrWhiteSpace(smtp.Host))
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(smtp.Timeout);
            using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
            // Note: STARTTLS is required to any other machine, so that the alert and the credentials never cross the network in
            // clear; only a relay on this machine may be spoken to without it.
            await client.ConnectAsync(smtp.Host, smtp.Port, smtp.IsLoopback ? SecureSocketOptions.StartTlsWhenAvailable : SecureSocketOptions.StartTls, timeout.Token);
            if (!string.IsNullOrEmpty(smtp.Username))
            {
                await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", timeout.Token);
            }

            await client.SendAsync(Message(alert, auditSequence, smtp), timeout.Token);
            await client.DisconnectAsync(quit: true, timeout.Token);
            LogSent(logger, alert.Rule, smtp.To.Count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Note: only the exception's type and message: MailKit's messages name the server's reply, not the password.
            LogFailed(logger, alert.Rule, smtp.Host, ex.GetType().Name);
        }
    }

    /// <summary>The message for <paramref name="alert"/>.</summary>
    public static MimeMessage Message(FiredAlert alert, long? auditSequence, AlertSmtpOptions smtp)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(smtp.From!));
        foreach (var to in smtp.To)
        {
            message.To.Add(MailboxAddress.Parse(to));
        }

        message.Subject = $"[SPE alert] {alert.Rule}: {alert.GroupBy} {Clip(alert.Key, 80)}";
        message.Body = new TextPart("plain")
        {
            Text = string.Create(CultureInfo.InvariantCulture, $"""
                Rule: {alert.Rule}
                Per: {alert.GroupBy}
                Key: {Clip(alert.Key, 200)}
                Value: {alert.Value} (threshold {alert.Threshold}, window {(long)alert.Window.TotalSeconds} s)
                Fired at: {alert.FiredAt:yyyy-MM-ddTHH:mm:ssZ}
                Audit record: {(auditSequence is { } s ? s.ToString(CultureInfo.InvariantCulture) : "not written")}

                {alert.Description}

                List and acknowledge with: spe alert list --open
                """),
        };
        return message;
    }

    private static string Clip(string text, int length) => text.Length > length ? text[..length] : text;

    [LoggerMessage(EventId = 23013, Level = LogLevel.Information, Message = "SPE23013 alert {Rule} e-mailed to {Recipients} recipient(s)")]
    private static partial void LogSent(ILogger logger, string rule, int recipients);

    [LoggerMessage(EventId = 23014, Level = LogLevel.Error, Message = "SPE23014 alert {Rule} could not be e-mailed through {Host} ({Error}); it stays in the audit log and the alert list")]
    private static partial void LogFailed(ILogger logger, string rule, string host, string error);
}
