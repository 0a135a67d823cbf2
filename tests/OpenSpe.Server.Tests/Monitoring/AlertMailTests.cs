using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Monitoring.Alerts;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Monitoring;

/// <summary>
/// E-mail of fired alerts (EHDSR-9, TIR-13) to a tiny SMTP receiver on 127.0.0.1 written here (EHLO, AUTH PLAIN, MAIL,
/// RCPT, DATA, QUIT): the message names the rule and carries no secret; a mail server that is down loses neither the
/// audit record nor the stored alert.
/// </summary>
public sealed class AlertMailTests : IAsyncDisposable
{
    private const string SmtpPassword = "smtp-password-that-must-never-leave";
    private const string WebhookSecret = "an-alert-webhook-secret-of-forty-chars!!";
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();
    private Task _serving = Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _serving.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    [Trait("Requirement", "TIR-13")]
    public async Task A_fired_alert_is_mailed_with_its_rule_and_no_secret()
    {
        _listener.Start();
        _serving = ServeAsync(_stop.Token);
        await using var server = await SpeTestServer.StartAsync(settings: Smtp(((IPEndPoint)_listener.LocalEndpoint).Port));

        server.Services.GetRequiredService<AlertEvaluator>().Raise(Alert());
        var message = await _messages.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Contains("signin-failures-per-account", message, StringComparison.Ordinal);
        Assert.Contains("mail-test-account", message, StringComparison.Ordinal);
        Assert.DoesNotContain(SmtpPassword, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(SmtpPassword)), message, StringComparison.Ordinal);
        Assert.DoesNotContain(WebhookSecret, message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-9")]
    public async Task A_mail_server_that_is_down_loses_neither_the_audit_record_nor_the_stored_alert()
    {
        // Note: a port taken and closed again: nothing listens there.
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _listener.Stop();
        var hooks = Channel.CreateUnbounded<string>();
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        Microsoft.AspNetCore.Hosting.HostingAbstractionsWebHostBuilderExtensions.UseUrls(builder.WebHost, "http://127.0.0.1:0");
        await using var receiver = builder.Build();
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapPost(receiver, "/hook", async (Microsoft.AspNetCore.Http.HttpContext context) =>
        {
            using var body = new StreamReader(context.Request.Body);
            await hooks.Writer.WriteAsync(await body.ReadToEndAsync());
            return Microsoft.AspNetCore.Http.Results.NoContent();
        });
        await receiver.StartAsync(TestContext.Current.CancellationToken);
        var settings = Smtp(port);
        settings["Alerts:WebhookUrl"] = receiver.Urls.First() + "/hook";
        settings["Alerts:WebhookSecret"] = WebhookSecret;
        await using var server = await SpeTestServer.StartAsync(settings: settings);
        using var op = await server.ClientForAccountAsync("operator");

        server.Services.GetRequiredService<AlertEvaluator>().Raise(Alert());
        // Note: the webhook is posted after the audit record and the stored alert, beside the failing mail.
        var posted = await hooks.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Contains("mail-test-account", posted, StringComparison.Ordinal);
        var records = await server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "security.alert"));
        Assert.Contains(records, r => r.ResourceId == "signin-failures-per-account");
        Assert.Contains("mail-test-account", await op.GetStringAsync("/api/v1/alerts", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    private static FiredAlert Alert() => new("signin-failures-per-account", "account", "mail-test-account", 5, 5, TimeSpan.FromMinutes(15), DateTimeOffset.UtcNow,
        "Repeated failed sign-ins for one account.", null);

    private static Dictionary<string, string?> Smtp(int port) => new()
    {
        ["Alerts:Smtp:Host"] = "127.0.0.1",
        ["Alerts:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Alerts:Smtp:From"] = "spe@spe.example",
        ["Alerts:Smtp:To:0"] = "ops@spe.example",
        ["Alerts:Smtp:Username"] = "spe-alerts",
        ["Alerts:Smtp:Password"] = SmtpPassword,
        ["Alerts:Smtp:Timeout"] = "00:00:10",
    };

    /// <summary>Just enough SMTP for one client at a time: it records each message's DATA.</summary>
    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(cancellationToken);
            await using var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 test-smtp ready");
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteLineAsync("250-test-smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME");
                        break;
                    case "AUTH":
                        await writer.WriteLineAsync("235 2.7.0 accepted");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 go on");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(cancellationToken) is { } body && body != ".")
                        {
                            data.AppendLine(body);
                        }

                        await _messages.Writer.WriteAsync(data.ToString(), cancellationToken);
                        await writer.WriteLineAsync("250 queued");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 bye");
                        break;
                    default:
                        await writer.WriteLineAsync("250 ok");
                        break;
                }
            }
        }
    }
}
