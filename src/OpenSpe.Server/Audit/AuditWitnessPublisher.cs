using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;

namespace OpenSpe.Server.Audit;

/// <summary>
/// Pushes each new checkpoint to the configured witnesses, off the writer's path: a slow volume or
/// endpoint never holds up an audit commit. Only the newest checkpoint waits; one that is replaced
/// before it went out is covered by its successor. A failed push is logged (SPE12102) and the next
/// checkpoint tries again.
/// </summary>
internal sealed partial class AuditWitnessPublisher : IDisposable
{
    private readonly AuditWitnessOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient[] _clients;
    private readonly TimeProvider _time;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _pushed = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private AuditCheckpointDocument? _next;
    private Task _pump = Task.CompletedTask;
    private bool _running;

    /// <summary>Creates the publisher.</summary>
    public AuditWitnessPublisher(AuditWitnessOptions options, ILogger logger, TimeProvider? time = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = time ?? TimeProvider.System;
        _clients = [.. options.Endpoints.Select(e => CreateClient(e, options.Timeout))];
    }

    /// <summary>True when at least one witness is configured.</summary>
    public bool HasWitnesses => _options.Files.Count > 0 || _options.Endpoints.Count > 0;

    /// <summary>When the endpoint <paramref name="url"/> last accepted a checkpoint from this process; null when never.</summary>
    public DateTimeOffset? LastPushed(string url) => _pushed.TryGetValue(url, out var at) ? at : null;

    /// <summary>Queues <paramref name="checkpoint"/> for every witness, replacing one still waiting.</summary>
    public void Publish(AuditCheckpointDocument checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!HasWitnesses)
        {
            return;
        }

        lock (_gate)
        {
            _next = checkpoint;
            if (!_running)
            {
                _running = true;
                _pump = Task.Run(PumpAsync);
            }
        }
    }

    /// <summary>Completes when nothing is waiting to be pushed.</summary>
    public Task DrainAsync()
    {
        lock (_gate)
        {
            return _pump;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            AuditCheckpointDocument checkpoint;
            lock (_gate)
            {
                if (_next is null)
                {
                    _running = false;
                    return;
                }

                checkpoint = _next;
                _next = null;
            }

            await PushAsync(checkpoint);
        }
    }

    private async Task PushAsync(AuditCheckpointDocument checkpoint)
    {
        foreach (var file in _options.Files)
        {
            try
            {
                var refusal = AuditWitnessHistory.Decide(AuditWitnessFile.Last(file), checkpoint, out var unchanged);
                if (refusal is not null)
                {
                    LogWitnessRefused(_logger, file, refusal);
                }
                else if (!unchanged)
                {
                    AuditWitnessFile.Append(file, checkpoint);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                LogPushFailed(_logger, file, ex.GetType().Name, ex.Message);
            }
        }

        for (var i = 0; i < _clients.Length; i++)
        {
            var url = _options.Endpoints[i].Url;
            try
            {
                using var content = new StringContent(checkpoint.ToJsonLine(), Encoding.UTF8, "application/json");
                using var response = await _clients[i].PostAsync(new Uri(url), content);
                if (!response.IsSuccessStatusCode)
                {
                    LogPushFailed(_logger, url, "HTTP " + (int)response.StatusCode, response.ReasonPhrase ?? "");
                }
                else
                {
                    _pushed[url] = _time.GetUtcNow();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                LogPushFailed(_logger, url, ex.GetType().Name, ex.Message);
            }
        }
    }

    private static HttpClient CreateClient(AuditWitnessEndpointOptions endpoint, TimeSpan timeout)
    {
        var pin = endpoint.CertificateSha256 is { } configured ? AuditWitnessEndpointOptions.NormalisePin(configured) : null;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = timeout,
            SslOptions =
            {
                // Note: with a pin only that exact certificate is accepted; without one the system trust store decides.
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => pin is null
                    ? errors == SslPolicyErrors.None
                    : certificate is not null && CryptographicOperations.FixedTimeEquals(
                        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData()))), Encoding.ASCII.GetBytes(pin)),
            },
        };
        return new HttpClient(handler) { Timeout = timeout };
    }

    [LoggerMessage(EventId = 12102, Level = LogLevel.Warning, Message = "SPE12102 audit checkpoint not pushed to witness {Witness} ({ErrorType}: {Reason}); the next checkpoint tries again")]
    private static partial void LogPushFailed(ILogger logger, string witness, string errorType, string reason);

    [LoggerMessage(EventId = 12104, Level = LogLevel.Critical, Message = "SPE12104 witness {Witness} refuses the new checkpoint: {Reason}")]
    private static partial void LogWitnessRefused(ILogger logger, string witness, string reason);
}
