using OpenSpe.Core.Audit;
using OpenSpe.Server.Audit;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Tests.Audit;

/// <summary>The four ways to rewrite an audit log that the stored checkpoints alone do not reveal, made with plain SQL on a stopped server's database.</summary>
internal static class AuditAttacks
{
    public static readonly string[] All = ["truncate", "delete-checkpoints", "empty", "rewrite"];

    public static async Task ApplyAsync(SpeDatabase database, string attack)
    {
        switch (attack)
        {
            case "truncate":
                await ExecuteAsync(database, "DELETE FROM audit_records WHERE sequence > 3");
                await ExecuteAsync(database, "DELETE FROM audit_checkpoints WHERE sequence > 3");
                break;
            case "delete-checkpoints":
                await ExecuteAsync(database, "DELETE FROM audit_checkpoints");
                break;
            case "empty":
                await ExecuteAsync(database, "DELETE FROM audit_records");
                await ExecuteAsync(database, "DELETE FROM audit_checkpoints");
                break;
            case "rewrite":
                await ExecuteAsync(database, "UPDATE audit_records SET actor_username = 'nobody' WHERE sequence = 2");
                await RehashAsync(database);
                await ExecuteAsync(database, "DELETE FROM audit_checkpoints WHERE sequence >= 2");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(attack), attack, null);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public static async Task<long> CountAsync(SpeDatabase database, string sql)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task RehashAsync(SpeDatabase database)
    {
        List<AuditRow> rows;
        await using (var connection = await database.OpenConnectionAsync())
        {
            rows = [.. AuditStore.ReadRows(connection).Select(r => r.Clone())];
        }

        using var hasher = new AuditChainHasher();
        var previous = new byte[32];
        foreach (var row in rows)
        {
            var hash = new byte[32];
            hasher.Compute(row, previous, hash);
            await ExecuteAsync(database, $"UPDATE audit_records SET hash = X'{Convert.ToHexString(hash)}' WHERE sequence = {row.Sequence}");
            previous = hash;
        }
    }

    private static async Task ExecuteAsync(SpeDatabase database, string sql)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
