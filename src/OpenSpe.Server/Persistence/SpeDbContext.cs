using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Persistence;

/// <summary>
/// The SPE's schema. One model, two providers: each provider has its own subclass so that it
/// gets its own migrations (SQLite and PostgreSQL differ in types and DDL).
/// </summary>
internal abstract class SpeDbContext : IdentityDbContext<SpeUser>
{
    /// <summary>Creates the context.</summary>
    protected SpeDbContext(DbContextOptions options)
        : base(options)
    {
    }

    /// <summary>The audit log (written through raw SQL by the audit writer; mapped here for the schema).</summary>
    public DbSet<AuditRecordEntity> AuditRecords => Set<AuditRecordEntity>();

    /// <summary>Signed audit checkpoints.</summary>
    public DbSet<AuditCheckpointEntity> AuditCheckpoints => Set<AuditCheckpointEntity>();

    /// <summary>Data permits.</summary>
    public DbSet<Permits.PermitEntity> Permits => Set<Permits.PermitEntity>();

    /// <summary>Every version of every permit.</summary>
    public DbSet<Permits.PermitVersionEntity> PermitVersions => Set<Permits.PermitVersionEntity>();

    /// <summary>The people of each permit's current version.</summary>
    public DbSet<Permits.PermitMemberEntity> PermitMembers => Set<Permits.PermitMemberEntity>();

    /// <summary>Uploads in progress.</summary>
    public DbSet<Transfers.UploadEntity> Uploads => Set<Transfers.UploadEntity>();

    /// <summary>Verified dataset files.</summary>
    public DbSet<Transfers.ProjectFileEntity> ProjectFiles => Set<Transfers.ProjectFileEntity>();

    /// <summary>Emergency halts.</summary>
    public DbSet<Permits.HaltEntity> Halts => Set<Permits.HaltEntity>();

    /// <summary>Code-to-data jobs.</summary>
    public DbSet<Workspaces.JobEntity> Jobs => Set<Workspaces.JobEntity>();

    /// <summary>Airlock requests (exports and imports).</summary>
    public DbSet<Airlock.AirlockRequestEntity> AirlockRequests => Set<Airlock.AirlockRequestEntity>();

    /// <summary>The frozen files of airlock requests.</summary>
    public DbSet<Airlock.AirlockFileEntity> AirlockFiles => Set<Airlock.AirlockFileEntity>();

    /// <summary>Output checkers' decisions.</summary>
    public DbSet<Airlock.AirlockReviewEntity> AirlockReviews => Set<Airlock.AirlockReviewEntity>();

    /// <summary>Requests to grant a high-privilege role, waiting for a second admin.</summary>
    public DbSet<RoleGrantRequestEntity> RoleGrantRequests => Set<RoleGrantRequestEntity>();

    /// <summary>Small server facts kept across restarts (e.g. the last configuration fingerprint).</summary>
    public DbSet<ServerSettingEntity> ServerSettings => Set<ServerSettingEntity>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var modelBuilder = builder;
        base.OnModelCreating(modelBuilder);
        modelBuilder.UseOpenIddict();
        // Note: each module owns its tables' configuration (IEntityTypeConfiguration in the module's folder).
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(SpeDbContext).Assembly);
    }
}

/// <summary>SQLite flavour of the schema (own migrations).</summary>
internal sealed class SqliteSpeDbContext(DbContextOptions<SqliteSpeDbContext> options) : SpeDbContext(options);

/// <summary>PostgreSQL flavour of the schema (own migrations).</summary>
internal sealed class PostgresSpeDbContext(DbContextOptions<PostgresSpeDbContext> options) : SpeDbContext(options);
