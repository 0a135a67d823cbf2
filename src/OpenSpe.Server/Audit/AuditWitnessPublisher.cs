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
/// checkpoint tries again. What each witness last did is kept in <see cref="StateFileName"/> in the data directory, so that
/// its state (and the witness-age alert) runs from its last accepted push, not from the server's last start.
/// </summary>
internal sealed partial class AuditWitnessPublisher : IDisposable
{
    private readonly AuditWitnessOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient[] _clients;
    private readonly TimeProvider _time;
    private readonly OpenSpe.Server.Hosting.DataDirectory? _directory;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AuditWitnessPushState> _pushed = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private AuditCheckpointDocument? _next;
    private Task _pump = Task.CompletedTask;
    private bool _running;

    /// <summary>The file in the data directory that keeps each witness's last push outcome.</summary>
    public const string StateFileName = "audit-witness-pushes.json";

    /// <summary>Creates the publisher; <paramref name="directory"/> null keeps the witnesses' state in memory only.</summary>
    public AuditWitnessPublisher(AuditWitnessOptions options, ILogger logger, TimeProvider? time = null, OpenSpe.Server.Hosting.DataDirectory? directory = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = time ?? TimeProvider.System;
        _directory = directory;
        _clients = [.. options.Endpoints.Select(e => CreateClient(e, options.Timeout))];
        Load();
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
            Save();
        }
    }

    // Note: the state file names each witness by the SHA-256 of its configured path or URL, because an endpoint's URL may
    // carry a credential in its query; a witness no longer configured is simply not loaded.
    private static string StateKey(string witness) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(witness)));

    private void Load()
    {
        if (_directory?.File(StateFileName) is not { } path || !File.Exists(path))
        {
            return;
        }

        try
        {
            var saved = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, AuditWitnessPushState>>(File.ReadAllText(path), AuditJson.Options) ?? [];
            foreach (var witness in _options.Files.Concat(_options.Endpoints.Select(e => e.Url)))
            {
                if (saved.TryGetValue(StateKey(witness), out var state) && state is not null)
                {
                    _pushed[witness] = state;
                }
            }
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException or UnauthorizedAccessException)
        {
            // Note: an unreadable record only means the states start again from this process's pushes.
            LogStateUnreadable(_logger, ex.GetType().Name);
        }
    }

    private void Save()
    {
        if (_directory is null)
        {
            return;
        }

        try
        {
            var states = _pushed.ToDictionary(p => StateKey(p.Key), p => p.Value, StringComparer.Ordinal);
            _directory.WritePublic(StateFileName, System.Text.Json.JsonSerializer.Serialize(states, AuditJson.Options));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogStateUnreadable(_logger, ex.GetType().Name);
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

    [LoggerMessage(EventId = 12108, Level = LogLevel.Warning, Message = "SPE12108 the witnesses' push record (audit-witness-pushes.json) could not be read or written ({ErrorType}); their states run from this process's pushes")]
    private static partial void LogStateUnreadable(ILogger logger, string errorType);

    [LoggerMessage(EventId = 12104, Level = LogLevel.Critical, Message = "SPE12104 witness {Witness} refuses the new checkpoint: {Reason}")]
    private static partial void LogWitnessRefused(ILogger logger, string witness, string reason);
}

/// <summary>What one witness last did with a push from this server (kept across restarts in the data directory).</summary>
/// <param name="AcceptedAt">When it last took a checkpoint (null: never).</param>
/// <param name="Accepted">The checkpoint it last took.</param>
/// <param name="FailedAt">When the last push failed, if none succeeded after it.</param>
/// <param name="Failure">Why it failed, in words without secrets.</param>
internal sealed record AuditWitnessPushState(DateTimeOffset? AcceptedAt, AuditCheckpointDocument? Accepted, DateTimeOffset? FailedAt, string? Failure)
{
    /// <summary>No push yet.</summary>
    public static AuditWitnessPushState None { get; } = new(null, null, null, null);

    /// <summary>True when the last push failed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Failing => FailedAt is not null;
}
