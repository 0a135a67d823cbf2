using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using OpenSpe.Cli.Client;

namespace OpenSpe.Cli.Tests.CliClient;

/// <summary>
/// <see cref="ClientRetry"/> through <see cref="ServerConnection"/>: only transient failures are retried (the network, 408, 429,
/// 5xx), never a refusal; a TLS failure is not retried; a server's <c>Retry-After</c> is the wait, up to a cap.
/// </summary>
public sealed class ClientRetryTests
{
    private static readonly RetrySettings Immediate = new(5, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(412)]
    [InlineData(413)]
    [InlineData(422)]
    [InlineData(460)]
    [InlineData(507)]
    public async Task A_refusal_is_answered_at_once_and_never_retried(int status)
    {
        var server = new ScriptedHandler((HttpStatusCode)status);

        using var response = await SendAsync(server, Immediate, TimeProvider.System, _ => { });

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(1, server.Calls);
    }

    [Fact]
    public async Task Connection_failures_timeouts_and_5xx_are_retried_until_the_server_answers()
    {
        var server = new ScriptedHandler(
            new HttpRequestException("Connection refused"),
            new TaskCanceledException("timeout", new TimeoutException()),
            HttpStatusCode.ServiceUnavailable,
            HttpStatusCode.RequestTimeout,
            HttpStatusCode.TooManyRequests,
            HttpStatusCode.OK);
        var notices = new ConcurrentQueue<string>();

        using var response = await SendAsync(server, Immediate, TimeProvider.System, notices.Enqueue);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(6, server.Calls);
        Assert.Equal(5, notices.Count);
        Assert.All(notices, n => Assert.Contains("retrying in", n, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failure_that_outlasts_the_retries_is_one_readable_error()
    {
        var server = new ScriptedHandler([.. Enumerable.Repeat<object>(new HttpRequestException("Connection refused"), 10)]);

        var error = await Assert.ThrowsAsync<SpeClientException>(() => SendAsync(server, Immediate, TimeProvider.System, _ => { }));

        Assert.StartsWith("cannot reach https://spe.test", error.Message, StringComparison.Ordinal);
        Assert.Equal(1 + Immediate.MaxRetryAttempts, server.Calls);
        Assert.True(ClientRetry.IsTransient(error));
    }

    [Fact]
    public async Task Messages_that_end_in_a_full_stop_join_the_notice_and_the_error_without_a_doubled_stop()
    {
        var server = new ScriptedHandler([.. Enumerable.Repeat<object>(new HttpRequestException("Error while copying content to a stream."), 10)]);
        var notices = new ConcurrentQueue<string>();

        var error = await Assert.ThrowsAsync<SpeClientException>(() => SendAsync(server, Immediate, TimeProvider.System, notices.Enqueue));

        Assert.All(notices, n => Assert.StartsWith("connection failed: Error while copying content to a stream; retrying in ", n, StringComparison.Ordinal));
        Assert.Equal("cannot reach https://spe.test: Error while copying content to a stream", error.Message);
    }

    [Fact]
    public async Task A_TLS_failure_is_not_retried()
    {
        var server = new ScriptedHandler(new HttpRequestException(HttpRequestError.SecureConnectionError, "The remote certificate is invalid"));

        await Assert.ThrowsAsync<SpeClientException>(() => SendAsync(server, Immediate, TimeProvider.System, _ => { }));

        Assert.Equal(1, server.Calls);
    }

    [Theory]
    [InlineData(30, 30)]
    [InlineData(3600, 300)]
    public async Task The_wait_is_the_servers_Retry_After_up_to_five_minutes(int retryAfter, int waited)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var throttled = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        throttled.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfter));
        var server = new ScriptedHandler(throttled, HttpStatusCode.OK);
        var notice = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var settings = new RetrySettings(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));

        var sending = SendAsync(server, settings, time, text => notice.TrySetResult(text));
        var said = await notice.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(1, server.Calls);
        time.Advance(TimeSpan.FromSeconds(waited));
        using var response = await sending.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Contains($"the server answered 429 Too Many Requests; retrying in {waited} s", said, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, server.Calls);
    }

    private static async Task<HttpResponseMessage> SendAsync(ScriptedHandler server, RetrySettings settings, TimeProvider time, Action<string> notice)
    {
        using var connection = new ServerConnection(new Uri("https://spe.test/"), null, server);
        return await connection.ExecuteAsync(
            (_, token) => connection.SendAttemptAsync(new HttpRequestMessage(HttpMethod.Get, "api/v1/projects"), token),
            ClientRetry.Create(settings, time, notice),
            TestContext.Current.CancellationToken);
    }

    /// <summary>Answers each request with the next scripted status, response or exception (the last one repeats).</summary>
    private sealed class ScriptedHandler(params object[] script) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var step = script[Math.Min(Interlocked.Increment(ref _calls), script.Length) - 1];
            return step switch
            {
                HttpStatusCode status => Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request }),
                HttpResponseMessage response => Task.FromResult(response),
                Exception exception => Task.FromException<HttpResponseMessage>(exception),
                _ => throw new InvalidOperationException("not a scripted step"),
            };
        }
    }
}
