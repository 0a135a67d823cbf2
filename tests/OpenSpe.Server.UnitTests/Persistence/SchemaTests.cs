using Microsoft.EntityFrameworkCore;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.UnitTests.Persistence;

/// <summary>
/// The model the modules configure is the one the migrations build, for both providers: a change to any module's
/// <c>IEntityTypeConfiguration</c> without its migration fails here, not on an operator's database.
/// </summary>
public sealed class SchemaTests
{
    [Fact]
    public void The_sqlite_migrations_build_the_model_the_modules_configure()
    {
        using var context = new SqliteSpeDbContext(new DbContextOptionsBuilder<SqliteSpeDbContext>().UseSqlite("Data Source=:memory:").Options);

        Assert.False(context.Database.HasPendingModelChanges());
    }

    [Fact]
    public void The_postgresql_migrations_build_the_model_the_modules_configure()
    {
        // No connection is opened: the model is compared with the migrations' snapshot only.
        using var context = new PostgresSpeDbContext(new DbContextOptionsBuilder<PostgresSpeDbContext>().UseNpgsql("Host=127.0.0.1;Database=none").Options);

        Assert.False(context.Database.HasPendingModelChanges());
    }
}
