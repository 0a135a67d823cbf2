using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using OpenSpe.Server.Identity;

namespace OpenSpe.Server.Persistence;

/// <summary>
/// The SPE's schema. One model, two providers: each provider has its own subclass so that it
/// gets its own migrations (SQLite and PostgreSQL differ in types and DDL).
/// </summary>
public abstract class SpeDbContext : IdentityDbContext<SpeUser>
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
        modelBuilder.Entity<Identity.SpeUser>(e =>
        {
            e.Property(x => x.EnrolmentTokenHash).HasMaxLength(64);
            e.HasIndex(x => x.EnrolmentTokenHash).IsUnique();
        });
        modelBuilder.Entity<Permits.PermitEntity>(e =>
        {
            e.ToTable("permits");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(64);
            e.Property(x => x.Reference).HasMaxLength(64);
            e.HasIndex(x => x.Reference).IsUnique();
            e.Property(x => x.ProjectId).HasMaxLength(64);
            e.HasIndex(x => x.ProjectId).IsUnique();
            e.Property(x => x.State).HasMaxLength(16);
            e.Property(x => x.Title).HasMaxLength(300);
            e.Property(x => x.CreatedBy).HasMaxLength(450);
            e.Property(x => x.StateReason).HasMaxLength(500);
            e.Property(x => x.Revision).IsConcurrencyToken();
        });
        modelBuilder.Entity<Permits.PermitVersionEntity>(e =>
        {
            e.ToTable("permit_versions");
            e.HasKey(x => new { x.PermitId, x.Version });
            e.Property(x => x.PermitId).HasMaxLength(64);
            e.Property(x => x.CreatedBy).HasMaxLength(450);
            e.Property(x => x.Summary).HasMaxLength(500);
        });
        modelBuilder.Entity<Permits.PermitMemberEntity>(e =>
        {
            e.ToTable("permit_members");
            e.HasKey(x => x.Id);
            e.Property(x => x.PermitId).HasMaxLength(64);
            e.Property(x => x.Role).HasMaxLength(32);
            e.Property(x => x.AccountId).HasMaxLength(450);
            e.Property(x => x.Issuer).HasMaxLength(500);
            e.Property(x => x.Subject).HasMaxLength(255);
            e.Property(x => x.ClientId).HasMaxLength(100);
            e.HasIndex(x => x.AccountId);
            e.HasIndex(x => x.ClientId);
            e.HasIndex(x => x.PermitId);
        });
        modelBuilder.Entity<Permits.HaltEntity>(e =>
        {
            e.ToTable("halts");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(64);
            e.Property(x => x.ProjectId).HasMaxLength(64);
            e.Property(x => x.Reason).HasMaxLength(500);
            e.Property(x => x.HaltedBy).HasMaxLength(450);
            e.Property(x => x.ResumedBy).HasMaxLength(450);
        });
        modelBuilder.Entity<Transfers.UploadEntity>(e =>
        {
            e.ToTable("uploads");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(64);
            e.Property(x => x.ProjectId).HasMaxLength(64);
            e.Property(x => x.DatasetId).HasMaxLength(64);
            e.Property(x => x.Filename).HasMaxLength(255);
            e.Property(x => x.PlaintextSha256).HasMaxLength(64);
            e.Property(x => x.CreatedBy).HasMaxLength(450);
            e.HasIndex(x => x.ProjectId);
        });
        modelBuilder.Entity<Transfers.ProjectFileEntity>(e =>
        {
            e.ToTable("project_files");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(64);
            e.Property(x => x.ProjectId).HasMaxLength(64);
            e.Property(x => x.DatasetId).HasMaxLength(64);
            e.Property(x => x.Filename).HasMaxLength(255);
            e.Property(x => x.Sha256).HasMaxLength(64);
            e.Property(x => x.PlaintextSha256).HasMaxLength(64);
            e.Property(x => x.ObjectKey).HasMaxLength(300);
            e.Property(x => x.UploadedBy).HasMaxLength(450);
            e.HasIndex(x => x.ProjectId);
        });
        modelBuilder.Entity<RoleGrantRequestEntity>(e =>
        {
            e.ToTable("role_grant_requests");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(64);
            e.Property(x => x.UserId).HasMaxLength(450);
            e.Property(x => x.Role).HasMaxLength(64);
            e.Property(x => x.RequestedBy).HasMaxLength(450);
            e.Property(x => x.DecidedBy).HasMaxLength(450);
            e.Property(x => x.Status).HasMaxLength(16);
        });
        modelBuilder.Entity<AuditRecordEntity>(e =>
        {
            e.ToTable("audit_records");
            e.HasKey(x => x.Sequence);
            e.Property(x => x.Sequence).HasColumnName("sequence").ValueGeneratedNever();
            e.Property(x => x.TimestampMicros).HasColumnName("timestamp_us");
            e.Property(x => x.ActorSubject).HasColumnName("actor_subject").HasMaxLength(200);
            e.Property(x => x.ActorUsername).HasColumnName("actor_username").HasMaxLength(200);
            e.Property(x => x.ActorRoles).HasColumnName("actor_roles").HasMaxLength(500);
            e.Property(x => x.ActorClientId).HasColumnName("actor_client_id").HasMaxLength(200);
            e.Property(x => x.SourceIp).HasColumnName("source_ip").HasMaxLength(64);
            e.Property(x => x.UserAgent).HasColumnName("user_agent").HasMaxLength(256);
            e.Property(x => x.Action).HasColumnName("action").HasMaxLength(200);
            e.Property(x => x.ResourceType).HasColumnName("resource_type").HasMaxLength(100);
            e.Property(x => x.ResourceId).HasColumnName("resource_id").HasMaxLength(200);
            e.Property(x => x.ProjectId).HasColumnName("project_id").HasMaxLength(200);
            e.Property(x => x.Outcome).HasColumnName("outcome").HasMaxLength(16);
            e.Property(x => x.HttpStatus).HasColumnName("http_status");
            e.Property(x => x.TraceId).HasColumnName("trace_id").HasMaxLength(64);
            e.Property(x => x.DetailsJson).HasColumnName("details");
            e.Property(x => x.Hash).HasColumnName("hash");
            e.HasIndex(x => x.TimestampMicros).HasDatabaseName("ix_audit_records_timestamp");
            e.HasIndex(x => x.ActorUsername).HasDatabaseName("ix_audit_records_actor");
            e.HasIndex(x => x.Action).HasDatabaseName("ix_audit_records_action");
            e.HasIndex(x => x.ProjectId).HasDatabaseName("ix_audit_records_project");
            e.HasIndex(x => x.TraceId).HasDatabaseName("ix_audit_records_trace");
        });

        modelBuilder.Entity<AuditCheckpointEntity>(e =>
        {
            e.ToTable("audit_checkpoints");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasColumnName("id").ValueGeneratedOnAdd();
            e.Property(x => x.Sequence).HasColumnName("sequence");
            e.Property(x => x.Hash).HasColumnName("hash");
            e.Property(x => x.TimestampMicros).HasColumnName("timestamp_us");
            e.Property(x => x.Kind).HasColumnName("kind").HasMaxLength(16);
            e.Property(x => x.KeyId).HasColumnName("key_id").HasMaxLength(32);
            e.Property(x => x.Signature).HasColumnName("signature");
            e.HasIndex(x => x.Sequence).HasDatabaseName("ix_audit_checkpoints_sequence");
        });

        modelBuilder.Entity<ServerSettingEntity>(e =>
        {
            e.ToTable("server_settings");
            e.HasKey(x => x.Name);
            e.Property(x => x.Name).HasColumnName("name").HasMaxLength(100);
            e.Property(x => x.Value).HasColumnName("value").HasMaxLength(4000);
        });
    }
}

/// <summary>SQLite flavour of the schema (own migrations).</summary>
public sealed class SqliteSpeDbContext(DbContextOptions<SqliteSpeDbContext> options) : SpeDbContext(options);

/// <summary>PostgreSQL flavour of the schema (own migrations).</summary>
public sealed class PostgresSpeDbContext(DbContextOptions<PostgresSpeDbContext> options) : SpeDbContext(options);
