using Microsoft.Extensions.Logging;

namespace OpenSpe.Server.Tests.Infrastructure;

/// <summary>
/// Appends every error a test server logs, with its exception, to one file (<c>SPE_TEST_ERROR_LOG</c>, or
/// <c>openspe-test-errors.log</c> in the temp directory), so a test that failed with a bare 500 under load can be explained
/// afterwards: <c>.ci/run</c> prints the file's end when a run fails. The servers' console logs are not kept by the runner.
/// </summary>
/// <remarks>
/// Note: many tests provoke errors on purpose (a tampered log, a refused placement), so the file is evidence to read next to
/// a failure's time, not a verdict; nothing asserts on it.
/// </remarks>
internal sealed class TestErrorLog : ILoggerProvider
{
    private static readonly Lock Gate = new();

    public static readonly string Path = Environment.GetEnvironmentVariable("SPE_TEST_ERROR_LOG") is { Length: > 0 } configured
        ? configured
        : System.IO.Path.Join(System.IO.Path.GetTempPath(), "openspe-test-errors.log");

    private readonly string _server;

    public TestErrorLog(string server) => _server = server;

    public ILogger CreateLogger(string categoryName) => new Logger(_server, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(string server, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"{DateTimeOffset.UtcNow:O} {server} {logLevel} {category}[{eventId.Id}]: {formatter(state, exception)}{Environment.NewLine}"
                + (exception is null ? "" : exception + Environment.NewLine);
            try
            {
                lock (Gate)
                {
                    File.AppendAllText(Path, line);
                }
            }
            catch (IOException)
            {
                // Note: evidence only; a full or read-only temp directory must not fail the server it describes.
            }
        }
    }
}
