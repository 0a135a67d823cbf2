using System.Globalization;
using DuckDB.NET.Data;

namespace OpenSpe.Federation.Omop;

/// <summary>
/// A project's OMOP CDM tables in an in-memory DuckDB database, loaded from the holder's CSV files with schema
/// validation. In memory because decrypted data lives only in memory-backed storage while a project runs; one database
/// per analysis, dropped when it ends.
/// </summary>
internal sealed class CdmDatabase : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly string _directory;

    private CdmDatabase(DuckDBConnection connection, string directory)
    {
        _connection = connection;
        _directory = directory;
    }

    /// <summary>Opens an empty database for the CDM files in <paramref name="directory"/>.</summary>
    public static CdmDatabase Open(string directory)
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return new CdmDatabase(connection, directory);
    }

    /// <summary>The file of <paramref name="table"/> in the directory (any case of <c>NAME.csv</c>), or null.</summary>
    public string? FileOf(CdmTable table) =>
        Directory.Exists(_directory)
            ? Directory.EnumerateFiles(_directory, "*.csv", SearchOption.TopDirectoryOnly)
                .FirstOrDefault(f => string.Equals(Path.GetFileNameWithoutExtension(f), table.Name, StringComparison.OrdinalIgnoreCase))
            : null;

    /// <summary>Loads <paramref name="table"/> from its file, checking its columns and values.</summary>
    /// <exception cref="CdmSchemaException">The file is missing, lacks a column, or holds a value of the wrong type.</exception>
    public void Load(CdmTable table)
    {
        var file = FileOf(table) ?? throw new CdmSchemaException($"The CDM table {table.Name.ToUpperInvariant()} is missing (no {table.Name.ToUpperInvariant()}.csv).");
        var fileName = Path.GetFileName(file);
        var raw = "raw_" + table.Name;
        // Note: every field is read as text first, because DuckDB's type sniffing would turn a bad value into a text
        // column or a load error without a row; the checks below then name the column and row of the first bad value.
        try
        {
            Execute($"CREATE OR REPLACE TABLE {raw} AS SELECT row_number() OVER () AS spe_row, * FROM read_csv({Literal(file)}, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"')");
        }
        catch (DuckDBException e)
        {
            throw new CdmSchemaException($"{fileName} cannot be read as CSV with a header row.", e);
        }

        var present = Columns(raw);
        var missing = table.Columns.Where(c => !present.Contains(c.Name)).Select(c => c.Name).ToArray();
        if (missing.Length > 0)
        {
            throw new CdmSchemaException($"{fileName} lacks the CDM column(s) {string.Join(", ", missing)}.");
        }

        foreach (var column in table.Columns)
        {
            var value = $"NULLIF(trim(\"{column.Name}\"), '')";
            if (column.Required && FirstRow($"SELECT min(spe_row) FROM {raw} WHERE {value} IS NULL") is { } emptyRow)
            {
                throw new CdmSchemaException($"{fileName} row {emptyRow}: {column.Name} is required and empty.");
            }

            if (column.Type != CdmType.Text
                && FirstRow($"SELECT min(spe_row) FROM {raw} WHERE {value} IS NOT NULL AND TRY_CAST({value} AS {SqlType(column.Type)}) IS NULL") is { } badRow)
            {
                // Note: the value itself is not quoted, because this message can travel to a federation peer.
                throw new CdmSchemaException($"{fileName} row {badRow}: {column.Name} is not {(column.Type == CdmType.Date ? "a date (YYYY-MM-DD)" : "an integer")}.");
            }
        }

        var select = string.Join(", ", table.Columns.Select(c => $"CAST(NULLIF(trim(\"{c.Name}\"), '') AS {SqlType(c.Type)}) AS {c.Name}"));
        Execute($"CREATE OR REPLACE TABLE {table.Name} AS SELECT {select} FROM {raw}");
        Execute($"DROP TABLE {raw}");
    }

    /// <summary>Runs a query and returns its rows as objects.</summary>
    public List<object?[]> Query(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    public void Dispose() => _connection.Dispose();

    private static string SqlType(CdmType type) => type switch
    {
        CdmType.Integer => "BIGINT",
        CdmType.Date => "DATE",
        _ => "VARCHAR",
    };

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private HashSet<string> Columns(string table) =>
        Query($"SELECT column_name FROM information_schema.columns WHERE table_name = {Literal(table)}")
            .Select(r => ((string)r[0]!).Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    private long? FirstRow(string sql) => Query(sql) is [[{ } value]] ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>A CDM file does not meet the schema; the message names the file, column and row, never a value.</summary>
public sealed class CdmSchemaException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CdmSchemaException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CdmSchemaException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public CdmSchemaException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
