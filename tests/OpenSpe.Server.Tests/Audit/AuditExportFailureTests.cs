using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Tests.Infrastructure;
using OpenSpe.Server.Tests.Portal;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>
/// An audit export that fails after its first bytes must never look complete: the API's stream and the portal's pass-through
/// are cut (the client reads an error, not a clean end), and each stream's closed record says it failed (EHDSR-6, SPER-9).
/// The fault is real: a stored record the store cannot read, far enough into the log that hundreds of kilobytes left first
/// (<see cref="UnreadableAuditRecord"/>). On SQLite and on PostgreSQL.
/// </summary>
public abstract class AuditExportFailureTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private SpeTestServer _server = null!;

    protected abstract TestBackend Backend { get; }

    public async ValueTask InitializeAsync() => _server = await SpeTestServer.StartAsync(Backend);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "SPER-9")]
    public async Task An_api_export_that_fails_after_its_first_bytes_is_cut_and_recorded_as_failed()
    {
        using var auditor = await _server.ClientForAccountAsync("auditor");
        var watermark = await HeadAsync();
        long received;
        Exception? cut;
        await using (var fault = await UnreadableAuditRecord.PlantAsync(_server))
        {
            using var response = await auditor.GetAsync("/api/v1/audit/export?format=jsonl", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            (received, cut) = await ReadUntilEndOrErrorAsync(body);
        }

        var closed = await ClosedRecordAsync(r => r.Action == "audit.export", watermark);

        Assert.True(cut is not null, $"the export ended cleanly after {received} bytes although a record could not be read");
        Assert.IsAssignableFrom<IOException>(cut);
        Assert.True(received > 64 * 1024, $"only {received} bytes arrived before the cut: the failure was not after the first byte");
        Assert.Equal("failed", Detail(closed, "end"));
        Assert.Equal("error", closed.Outcome);
        Assert.True(long.Parse(Detail(closed, "bytes")!, System.Globalization.CultureInfo.InvariantCulture) >= received);
        Assert.True((await _server.Services.GetRequiredService<AuditService>().VerifyAsync()).Valid);
    }

    [Fact]
    [Trait("Requirement", "EHDSR-6")]
    [Trait("Requirement", "TIR-22")]
    public async Task A_portal_export_that_fails_after_its_first_bytes_is_cut_in_the_browser_and_both_streams_say_failed()
    {
        using var portal = new PortalBrowser(_server);
        using var _ = await portal.SignInAsync("auditor");
        var watermark = await HeadAsync();
        long received;
        Exception? cut;
        HttpStatusCode status;
        await using (var fault = await UnreadableAuditRecord.PlantAsync(_server))
        {
            using var response = await portal.Browser.Http.GetAsync("/audit?handler=Export&format=jsonl", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Deadline);
            status = response.StatusCode;
            await using var body = await response.Content.ReadAsStreamAsync();
            (received, cut) = await ReadUntilEndOrErrorAsync(body);
        }

        var api = await ClosedRecordAsync(r => r.Action == "audit.export", watermark);
        var page = await ClosedRecordAsync(r => r.Action != "audit.export" && Detail(r, "path") == "/audit", watermark);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(cut is not null, $"the browser's download ended cleanly after {received} bytes although the export failed");
        Assert.True(received > 0, "nothing arrived: the download was held, not streamed through");
        Assert.Equal("failed", Detail(api, "end"));
        Assert.Equal("failed", Detail(page, "end"));
        Assert.Equal("auditor", page.ActorUsername);
    }

    /// <summary>Reads the body to its end; returns the bytes read and the error that ended it, if any.</summary>
    internal static async Task<(long Received, Exception? Error)> ReadUntilEndOrErrorAsync(Stream body)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer).AsTask().WaitAsync(Deadline)) > 0)
            {
                total += read;
            }

            return (total, null);
        }
        catch (IOException ex)
        {
            return (total, ex);
        }
    }

    private async Task<long> HeadAsync() =>
        (await _server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(Limit: 1, NewestFirst: true))).Single().Sequence;

    /// <summary>The closed record is written after the last byte left, so the client may see the end first: wait for it.</summary>
    private async Task<OpenSpe.Core.Audit.AuditRow> ClosedRecordAsync(Func<OpenSpe.Core.Audit.AuditRow, bool> match, long after)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var rows = await _server.Services.GetRequiredService<AuditService>().QueryAsync(new AuditQuery(AfterSequence: after));
            var closed = rows.Where(r => Detail(r, "stream") == "closed").SingleOrDefault(match);
            if (closed is not null)
            {
                return closed;
            }

            Assert.True(DateTime.UtcNow < deadline, "no closed record");
            await Task.Delay(20);
        }
    }

    private static string? Detail(OpenSpe.Core.Audit.AuditRow row, string key) =>
        JsonDocument.Parse(row.DetailsJson).RootElement.TryGetProperty(key, out var value) ? value.GetString() : null;
}

public sealed class SqliteAuditExportFailureTests : AuditExportFailureTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresAuditExportFailureTests : AuditExportFailureTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
