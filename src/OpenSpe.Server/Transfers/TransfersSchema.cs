using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Transfers;

// The transfers module's tables (applied by SpeDbContext).

internal sealed class UploadConfiguration : IEntityTypeConfiguration<UploadEntity>
{
    public void Configure(EntityTypeBuilder<UploadEntity> builder)
    {
        builder.ToTable("uploads");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.ProjectId).HasMaxLength(64);
        builder.Property(x => x.DatasetId).HasMaxLength(64);
        builder.Property(x => x.Filename).HasMaxLength(255);
        builder.Property(x => x.PlaintextSha256).HasMaxLength(64);
        builder.Property(x => x.CreatedBy).HasMaxLength(450);
        builder.HasIndex(x => x.ProjectId);
    }
}

internal sealed class ProjectFileConfiguration : IEntityTypeConfiguration<ProjectFileEntity>
{
    public void Configure(EntityTypeBuilder<ProjectFileEntity> builder)
    {
        builder.ToTable("project_files");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.ProjectId).HasMaxLength(64);
        builder.Property(x => x.DatasetId).HasMaxLength(64);
        builder.Property(x => x.Filename).HasMaxLength(255);
        builder.Property(x => x.Sha256).HasMaxLength(64);
        builder.Property(x => x.PlaintextSha256).HasMaxLength(64);
        builder.Property(x => x.ObjectKey).HasMaxLength(300);
        builder.Property(x => x.UploadedBy).HasMaxLength(450);
        builder.HasIndex(x => x.ProjectId);
        // Note: one file per name in a dataset, decided by the database, because two uploads of one name can complete at once (on
        // two instances, too) and a second file of a name would fail the staging of every job of the project.
        builder.HasIndex(x => new { x.ProjectId, x.DatasetId, x.Filename }).IsUnique();
    }
}
