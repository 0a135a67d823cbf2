using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Operations.Backups;

/// <summary>
/// A consistent copy of the live database while the server keeps writing: SQLite's online backup API, or <c>pg_dump</c>
/// (one transaction snapshot) for PostgreSQL; and the way back (<c>pg_restore</c>).
/// </summary>
internal static class DatabaseSnapshot
{
    /// <summary>Copies the database into <paramref name="target"/> (a new file) and returns the piece kind it is.</summary>
    public static async Task<string> TakeAsync(SpeDatabase database, string target, CancellationToken cancellationToken)
    {
        if (database.Provider == DatabaseProvider.Sqlite)
        {
            // Note: the online backup API copies pages under SQLite's own locking, so the copy is one consistent state of
            // the database even while the server commits; a file copy of spe.db and its WAL could tear.
            var source = new SqliteConnectionStringBuilder(database.ConnectionString) { Mode = SqliteOpenMode.ReadOnly, Pooling = false };
            await using var from = new SqliteConnection(source.ConnectionString);
            await from.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var to = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = target, Pooling = false }.ConnectionString);
            await to.OpenAsync(cancellationToken).ConfigureAwait(false);
            from.BackupDatabase(to);
            return BackupPieceKind.SqliteDatabase;
        }

        // Note: pg_dump reads inside one repeatable-read transaction, so the dump is one consistent state as well.
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await RunAsync("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--file", target, "--dbname", builder.Database ?? "postgres"], builder, cancellationToken).ConfigureAwait(false);
        return BackupPieceKind.PostgresDump;
    }

    /// <summary>Loads a <c>pg_dump</c> archive into the (empty) database <paramref name="connectionString"/> names.</summary>
    public static Task RestorePostgresAsync(string dump, string connectionString, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return RunAsync("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", builder.Database ?? "postgres", dump], builder, cancellationToken);
    }

    private static async Task RunAsync(string tool, IReadOnlyList<string> arguments, NpgsqlConnectionStringBuilder connection, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(FindTool(tool)) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Note: connection details (and the password) go through the environment, never the command line, which any
        // local user can read in /proc.
        start.Environment["PGHOST"] = connection.Host;
        start.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PGUSER"] = connection.Username;
        if (!string.IsNullOrEmpty(connection.Password))
        {
            start.Environment["PGPASSWORD"] = connection.Password;
        }

        using var process = Process.Start(start) ?? throw new BackupException($"{tool} did not start");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            var first = (await stderr.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "no message";
            throw new BackupException($"{tool} failed with exit code {process.ExitCode}: {first}");
        }
    }

    /// <summary>The PostgreSQL client tool: on PATH, else the newest in Debian's versioned directories (which are not on PATH).</summary>
    private static string FindTool(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        const string Debian = "/usr/lib/postgresql";
        var found = Directory.Exists(Debian)
            ? Directory.EnumerateDirectories(Debian).Select(d => Path.Combine(d, "bin", name)).Where(File.Exists)
                .OrderByDescending(p => int.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(p))), out var v) ? v : 0).FirstOrDefault()
            : null;
        return found ?? throw new BackupException($"{name} is not installed (Debian package postgresql-client); it is needed to back up or restore a PostgreSQL database");
    }
}
