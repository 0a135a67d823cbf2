using System.CommandLine;

namespace OpenSpe.Cli;

/// <summary>Options shared by several verbs, so their names and help stay identical.</summary>
internal static class CommonOptions
{
    public static Option<bool> Json() => new("--json") { Description = "Print JSON instead of a table." };

    public static Option<string> DataDir(bool required) => new("--data-dir")
    {
        Description = "The server's data directory (or a copy of it).",
        Required = required,
        DefaultValueFactory = _ => "./.spe",
    };

    public static Option<string?> Database() => new("--database")
    {
        Description = "Database connection string (default: SQLite in the data directory; \"Host=...\" for PostgreSQL).",
    };
}
