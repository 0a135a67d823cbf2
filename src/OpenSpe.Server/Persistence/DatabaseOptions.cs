using System.ComponentModel.DataAnnotations;

namespace OpenSpe.Server.Persistence;

/// <summary>Which database holds the SPE's metadata and audit log.</summary>
internal sealed class DatabaseOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Database";

    /// <summary>
    /// An ADO.NET connection string. Empty means SQLite in the data directory; a string with
    /// <c>Host=</c> selects PostgreSQL; anything else is read as a SQLite connection string.
    /// </summary>
    [MaxLength(4096)]
    public string? ConnectionString { get; set; }

    /// <summary>How long a SQLite writer waits on a lock before the write fails (and the request fails closed).</summary>
    [Range(100, 60_000)]
    public int SqliteBusyTimeoutMilliseconds { get; set; } = 5_000;
}

/// <summary>The database engines OpenSPE runs on.</summary>
internal enum DatabaseProvider
{
    /// <summary>Embedded SQLite (default).</summary>
    Sqlite,

    /// <summary>PostgreSQL (scale-out).</summary>
    PostgreSql,
}
