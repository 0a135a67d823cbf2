using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Permits;

// The permits module's tables (applied by SpeDbContext).

internal sealed class PermitConfiguration : IEntityTypeConfiguration<PermitEntity>
{
    public void Configure(EntityTypeBuilder<PermitEntity> builder)
    {
        builder.ToTable("permits");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.Reference).HasMaxLength(64);
        builder.HasIndex(x => x.Reference).IsUnique();
        builder.Property(x => x.ProjectId).HasMaxLength(64);
        builder.HasIndex(x => x.ProjectId).IsUnique();
        builder.Property(x => x.State).HasMaxLength(16);
        builder.Property(x => x.Title).HasMaxLength(300);
        builder.Property(x => x.CreatedBy).HasMaxLength(450);
        builder.Property(x => x.StateReason).HasMaxLength(500);
        builder.Property(x => x.Revision).IsConcurrencyToken();
    }
}

internal sealed class PermitVersionConfiguration : IEntityTypeConfiguration<PermitVersionEntity>
{
    public void Configure(EntityTypeBuilder<PermitVersionEntity> builder)
    {
        builder.ToTable("permit_versions");
        builder.HasKey(x => new { x.PermitId, x.Version });
        builder.Property(x => x.PermitId).HasMaxLength(64);
        builder.Property(x => x.CreatedBy).HasMaxLength(450);
        builder.Property(x => x.Summary).HasMaxLength(500);
    }
}

internal sealed class PermitMemberConfiguration : IEntityTypeConfiguration<PermitMemberEntity>
{
    public void Configure(EntityTypeBuilder<PermitMemberEntity> builder)
    {
        builder.ToTable("permit_members");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.PermitId).HasMaxLength(64);
        builder.Property(x => x.Role).HasMaxLength(32);
        builder.Property(x => x.AccountId).HasMaxLength(450);
        builder.Property(x => x.Issuer).HasMaxLength(500);
        builder.Property(x => x.Subject).HasMaxLength(255);
        builder.Property(x => x.ClientId).HasMaxLength(100);
        builder.HasIndex(x => x.AccountId);
        builder.HasIndex(x => x.ClientId);
        builder.HasIndex(x => x.PermitId);
    }
}

internal sealed class HaltConfiguration : IEntityTypeConfiguration<HaltEntity>
{
    public void Configure(EntityTypeBuilder<HaltEntity> builder)
    {
        builder.ToTable("halts");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.ProjectId).HasMaxLength(64);
        builder.Property(x => x.Reason).HasMaxLength(500);
        builder.Property(x => x.HaltedBy).HasMaxLength(450);
        builder.Property(x => x.ResumedBy).HasMaxLength(450);
    }
}
