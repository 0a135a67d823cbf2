using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenSpe.Server.Tests.Infrastructure;

namespace OpenSpe.Server.Tests.Api;

/// <summary>
/// When the audit store cannot be written, requests are refused with 503 and have no other
/// effect; when it recovers, service resumes and the chain is intact (OPR-7, TIR-12).
/// The store is blocked for real: another connection holds the database's write lock.
/// </summary>
public abstract class FailClosedTests
{
    protected abstract TestBackend Backend { get; }

    [Fact]
    [Trait("Requirement", "OPR-7")]
    [Trait("Requirement", "TIR-12")]
    [Trait("Requirement", "SPER-9")]
    public async Task Requests_are_refused_while_the_audit_store_is_unwritable_and_have_no_effect()
    {
        var effects = 0;
        await using var server = await SpeTestServer.StartAsync(Backend, new Dictionary<string, string?> { ["Database:SqliteBusyTimeoutMilliseconds"] = "200" }, app =>
            app.MapPost("/api/v1/test/effect", () =>
            {
                Interlocked.Increment(ref effects);
                return TypedResults.Ok();
            }).RequireAuthorization());
        using var client = await server.ClientAsAsync("operator1", "operator");
        var recordsBefore = await CountRecordsAsync(server);

        HttpResponseMessage post, get, ready;
        await using (await HoldWriteLockAsync(server, Backend))
        {
            post = await client.PostAsync("/api/v1/test/effect", null);
            get = await client.GetAsync("/api/v1/server/info");
            ready = await server.Client.GetAsync("/readyz");
        }

        await ProblemAssert.IsProblemAsync(post, HttpStatusCode.ServiceUnavailable);
        await ProblemAssert.IsProblemAsync(get, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(0, effects);
        Assert.Equal(recordsBefore, await CountRecordsAsync(server));

        var recovered = await client.PostAsync("/api/v1/test/effect", null);
        var verification = await server.Services.GetRequiredService<OpenSpe.Server.Audit.AuditService>().VerifyAsync();

        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        Assert.Equal(1, effects);
        Assert.True(verification.Valid, verification.Message);
    }

    /// <summary>Holds the database's write lock (SQLite) or the audit table's lock (PostgreSQL) from another connection until disposed.</summary>
    internal static async Task<IAsyncDisposable> HoldWriteLockAsync(SpeTestServer server, TestBackend backend)
    {
        var connection = await server.Database.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = backend == TestBackend.Sqlite
            ? "INSERT INTO server_settings (name, value) VALUES ('lock-holder', 'x')"
            : "LOCK TABLE audit_records IN ACCESS EXCLUSIVE MODE";
        await command.ExecuteNonQueryAsync();
        return new LockHolder(connection, transaction);
    }

    private static async Task<long> CountRecordsAsync(SpeTestServer server)
    {
        await using var connection = await server.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM audit_records";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class LockHolder(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}

public sealed class SqliteFailClosedTests : FailClosedTests
{
    protected override TestBackend Backend => TestBackend.Sqlite;
}

public sealed class PostgresFailClosedTests : FailClosedTests
{
    protected override TestBackend Backend => TestBackend.PostgreSql;
}
