using System.Globalization;
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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AuditWitnessPushState> _pushed = new(StringComparer.Ordinal);
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
    public DateTimeOffset? LastPushed(string url) => State(url).AcceptedAt;

    /// <summary>What the witness <paramref name="witness"/> (a file path or an endpoint URL as configured) last did with a push from this process.</summary>
    public AuditWitnessPushState State(string witness) => _pushed.TryGetValue(witness, out var state) ? state : AuditWitnessPushState.None;

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
                    Failed(file, "it refuses the checkpoint: " + refusal);
                }
                else
                {
                    if (!unchanged)
                    {
                        AuditWitnessFile.Append(file, checkpoint);
                    }

                    Accepted(file, checkpoint);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                LogPushFailed(_logger, file, ex.GetType().Name, ex.Message);
                Failed(file, ex is FormatException ? "the file is not a witness file" : "the file could not be written (" + ex.GetType().Name + ")");
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
                    Failed(url, string.Create(CultureInfo.InvariantCulture, $"it answered HTTP {(int)response.StatusCode}"));
                }
                else
                {
                    Accepted(url, checkpoint);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                LogPushFailed(_logger, url, ex.GetType().Name, ex.Message);
                // Note: the exception's message is not kept, because it may carry the URL with its query.
                Failed(url, ex is TaskCanceledException ? "it did not answer in time" : "it could not be reached (connection or TLS failed)");
            }
        }
    }

    private void Accepted(string witness, AuditCheckpointDocument checkpoint) =>
        _pushed[witness] = new AuditWitnessPushState(_time.GetUtcNow(), checkpoint, null, null);

    private void Failed(string witness, string reason) =>
        _pushed.AddOrUpdate(witness, _ => AuditWitnessPushState.None with { FailedAt = _time.GetUtcNow(), Failure = reason },
            (_, before) => before with { FailedAt = _time.GetUtcNow(), Failure = reason });

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

/// <summary>What one witness last did with a push from this server process.</summary>
/// <param name="AcceptedAt">When it last took a checkpoint (null: never since start).</param>
/// <param name="Accepted">The checkpoint it last took.</param>
/// <param name="FailedAt">When the last push failed, if none succeeded after it.</param>
/// <param name="Failure">Why it failed, in words without secrets.</param>
internal sealed record AuditWitnessPushState(DateTimeOffset? AcceptedAt, AuditCheckpointDocument? Accepted, DateTimeOffset? FailedAt, string? Failure)
{
    /// <summary>No push yet.</summary>
    public static AuditWitnessPushState None { get; } = new(null, null, null, null);

    /// <summary>True when the last push failed.</summary>
    public bool Failing => FailedAt is not null;
}
