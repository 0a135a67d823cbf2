using System.Net;
using System.Security.Authentication;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace OpenSpe.Cli.Client;

/// <summary>How patiently a transfer retries: retries after the first attempt, the first delay (doubled each time, with jitter) and the longest.</summary>
/// <param name="MaxRetryAttempts">Retries after the first attempt.</param>
/// <param name="Delay">The first delay.</param>
/// <param name="MaxDelay">The longest computed delay.</param>
internal sealed record RetrySettings(int MaxRetryAttempts, TimeSpan Delay, TimeSpan MaxDelay)
{
    /// <summary>Seven retries from 0.5 s up to 30 s: a server that stays unreachable for about a minute ends the run.</summary>
    public static RetrySettings Default { get; } = new(7, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(30));
}

/// <summary>
/// The CLI's retries, built on Microsoft.Extensions.Http.Resilience: exponential backoff with jitter, a server's
/// <c>Retry-After</c> respected (up to <see cref="MaxRetryAfter"/>), and only transient failures retried — the network,
/// a timeout, 408, 429 and 5xx. Every other answer, every 4xx above all, is the server's decision and goes back to the caller
/// at once.
/// </summary>
internal static class ClientRetry
{
    /// <summary>The longest <c>Retry-After</c> waited for; a server asking for longer gets this, and the run gives up sooner.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    /// <summary>A pipeline that runs a request again while <see cref="IsTransient(Outcome{HttpResponseMessage}, CancellationToken)"/> says so.</summary>
    /// <param name="settings">How often and how long.</param>
    /// <param name="time">The clock the delays run on.</param>
    /// <param name="notice">Told, before each wait, what failed and how long the wait is (one line).</param>
    public static ResiliencePipeline<HttpResponseMessage> Create(RetrySettings settings, TimeProvider time, Action<string>? notice)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = settings.MaxRetryAttempts,
            Delay = settings.Delay,
            MaxDelay = settings.MaxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldRetryAfterHeader = true,
            ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context.CancellationToken)),
            OnRetry = args =>
            {
                notice?.Invoke($"{Describe(args.Outcome)}; retrying in {args.RetryDelay.TotalSeconds:0.#} s");
                return default;
            },
        };

        // Note: Retry-After is honoured, but capped, because the retry strategy applies MaxDelay only to the delays it computes.
        var retryAfter = options.DelayGenerator!;
        options.DelayGenerator = async args =>
        {
            var delay = await retryAfter(args);
            return delay > MaxRetryAfter ? MaxRetryAfter : delay;
        };
        return new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }.AddRetry(options).Build();
    }

    /// <summary>Worth another attempt: the network or a timeout failed, or the server was briefly unable (408, 429, 5xx).</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken) => outcome switch
    {
        { Result: { } response } => IsTransient(response.StatusCode),
        // Note: a TLS failure (an untrusted or unpinned certificate) is never retried, because it does not heal and the user must decide.
        { Exception: HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } or HttpRequestException { InnerException: AuthenticationException } } => false,
        { Exception: HttpRequestException or HttpIOException or TaskCanceledException { InnerException: TimeoutException } } => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>Whether a failure that reached the caller (after the retries) was a transient one.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        ApiProblemException problem => IsTransient(problem.Status),
        SpeClientException { InnerException: { } inner } => IsTransient(Outcome.FromException<HttpResponseMessage>(inner), CancellationToken.None),
        _ => IsTransient(Outcome.FromException<HttpResponseMessage>(exception), CancellationToken.None),
    };

    /// <summary>
    /// 408, 429 and 5xx, but not the 5xx that will not change in seconds: not implemented, wrong HTTP version, and storage
    /// full (a quota or free-space decision of the server's).
    /// </summary>
    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        || ((int)status >= 500 && status is not (HttpStatusCode.NotImplemented or HttpStatusCode.HttpVersionNotSupported or HttpStatusCode.InsufficientStorage));

    private static string Describe(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Result: { } response } => $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}",
        { Exception: TaskCanceledException } => "no answer in time",
        { Exception: { } exception } => "connection failed: " + ProblemText.Clause(exception.Message),
        _ => "failed",
    };
}
