using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Audit;

// The audit module's tables (applied by SpeDbContext); the column names are the audit writer's raw SQL.

internal sealed class AuditRecordConfiguration : IEntityTypeConfiguration<AuditRecordEntity>
{
    public void Configure(EntityTypeBuilder<AuditRecordEntity> builder)
    {
        builder.ToTable("audit_records");
        builder.HasKey(x => x.Sequence);
        builder.Property(x => x.Sequence).HasColumnName("sequence").ValueGeneratedNever();
        builder.Property(x => x.TimestampMicros).HasColumnName("timestamp_us");
        builder.Property(x => x.ActorSubject).HasColumnName("actor_subject").HasMaxLength(200);
        builder.Property(x => x.ActorUsername).HasColumnName("actor_username").HasMaxLength(200);
        builder.Property(x => x.ActorRoles).HasColumnName("actor_roles").HasMaxLength(500);
        builder.Property(x => x.ActorClientId).HasColumnName("actor_client_id").HasMaxLength(200);
        builder.Property(x => x.SourceIp).HasColumnName("source_ip").HasMaxLength(64);
        builder.Property(x => x.UserAgent).HasColumnName("user_agent").HasMaxLength(256);
        builder.Property(x => x.Action).HasColumnName("action").HasMaxLength(200);
        builder.Property(x => x.ResourceType).HasColumnName("resource_type").HasMaxLength(100);
        builder.Property(x => x.ResourceId).HasColumnName("resource_id").HasMaxLength(200);
        builder.Property(x => x.ProjectId).HasColumnName("project_id").HasMaxLength(200);
        builder.Property(x => x.Outcome).HasColumnName("outcome").HasMaxLength(16);
        builder.Property(x => x.HttpStatus).HasColumnName("http_status");
        builder.Property(x => x.TraceId).HasColumnName("trace_id").HasMaxLength(64);
        builder.Property(x => x.DetailsJson).HasColumnName("details");
        builder.Property(x => x.Hash).HasColumnName("hash");
        builder.HasIndex(x => x.TimestampMicros).HasDatabaseName("ix_audit_records_timestamp");
        builder.HasIndex(x => x.ActorUsername).HasDatabaseName("ix_audit_records_actor");
        builder.HasIndex(x => x.Action).HasDatabaseName("ix_audit_records_action");
        builder.HasIndex(x => x.ProjectId).HasDatabaseName("ix_audit_records_project");
        builder.HasIndex(x => x.TraceId).HasDatabaseName("ix_audit_records_trace");
    }
}

internal sealed class AuditCheckpointConfiguration : IEntityTypeConfiguration<AuditCheckpointEntity>
{
    public void Configure(EntityTypeBuilder<AuditCheckpointEntity> builder)
    {
        builder.ToTable("audit_checkpoints");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(x => x.Sequence).HasColumnName("sequence");
        builder.Property(x => x.Hash).HasColumnName("hash");
        builder.Property(x => x.TimestampMicros).HasColumnName("timestamp_us");
        builder.Property(x => x.Kind).HasColumnName("kind").HasMaxLength(16);
        builder.Property(x => x.KeyId).HasColumnName("key_id").HasMaxLength(32);
        builder.Property(x => x.Signature).HasColumnName("signature");
        builder.HasIndex(x => x.Sequence).HasDatabaseName("ix_audit_checkpoints_sequence");
    }
}
