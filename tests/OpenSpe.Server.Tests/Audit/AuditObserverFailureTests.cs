using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Permits;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// A watcher of the audit log (an alert rule, a metric) that throws on a record it is told of must not fail the request
/// whose record is already durable: under load an alert rule's regular expression timed out there, and a sign-in or a
/// halt whose record was written answered 500, which a client retries, doing the action twice.
/// </summary>
public sealed class AuditObserverFailureTests : IAsyncLifetime
{
    private readonly LogCapture _log = new();
    private PermitFixture _f = null!;

    public async ValueTask InitializeAsync() => _f = await PermitFixture.StartAsync(services: s =>
    {
        s.AddSingleton<IAuditObserver, ThrowingObserver>();
        s.AddSingleton<ILoggerProvider>(_log);
    });

    public async ValueTask DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    [Trait("Requirement", "OPR-7")]
    public async Task A_halt_whose_watcher_throws_is_made_recorded_and_answered_201_and_the_failure_is_logged()
    {
        var (_, projectId) = await _f.IssueAsync(PermitFixture.Document(PermitFixture.Start.AddDays(-1), PermitFixture.Start.AddDays(30)));

        using var halt = await _f.PostAsAsync("operator", "/api/v1/halts", new { projectId, reason = "suspected exfiltration" });

        Assert.Equal(HttpStatusCode.Created, halt.StatusCode);
        Assert.Equal(HttpStatusCode.Locked, await _f.GetAsAsync("researcher", $"/api/v1/projects/{projectId}"));
        var records = await _f.Server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Action: "halt.started"));
        Assert.Single(records, r => r.ProjectId == projectId);
        Assert.True((await _f.Server.Services.GetRequiredService<AuditService>().VerifyAsync()).Valid);
        Assert.Contains(_log.Lines, l => l.StartsWith("SPE12109 the audit observer ThrowingObserver failed", StringComparison.Ordinal));
    }

    private sealed class ThrowingObserver : IAuditObserver
    {
        public void Committed(AuditEntry entry, long sequence, TimeSpan elapsed)
        {
            if (entry.Action == "halt.started")
            {
                throw new InvalidOperationException("this watcher fails on halts");
            }
        }

        public void Failed(AuditEntry entry)
        {
        }
    }

    private sealed class LogCapture : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception));
        }
    }
}
