using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace OpenSpe.Server.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the SQLite context without a running host.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteSpeDbContext>
{
    public SqliteSpeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteSpeDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the PostgreSQL context without a server.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresSpeDbContext>
{
    public PostgresSpeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresSpeDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
