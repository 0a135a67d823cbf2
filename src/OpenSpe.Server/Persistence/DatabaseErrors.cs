namespace OpenSpe.Server.Persistence;

/// <summary>What a failed save means, the same on SQLite and PostgreSQL.</summary>
internal static class DatabaseErrors
{
    /// <summary>True when a save failed because a unique index (or primary key) already holds the value: another writer was first, and nothing of the save was kept.</summary>
    public static bool IsUniqueViolation(Exception exception) => exception switch
    {
        Microsoft.EntityFrameworkCore.DbUpdateException { InnerException: { } inner } => IsUniqueViolation(inner),
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 1555 or 2067, // SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE
        Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        _ => false,
    };
}
