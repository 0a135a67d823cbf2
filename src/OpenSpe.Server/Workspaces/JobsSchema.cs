using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Workspaces;

// The workspaces module's tables (applied by SpeDbContext).

internal sealed class JobConfiguration : IEntityTypeConfiguration<JobEntity>
{
    public void Configure(EntityTypeBuilder<JobEntity> builder)
    {
        builder.ToTable("jobs");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.ProjectId).HasMaxLength(64);
        builder.Property(x => x.SubmittedBy).HasMaxLength(450);
        builder.Property(x => x.SubmittedByName).HasMaxLength(256);
        builder.Property(x => x.Component).HasMaxLength(100);
        builder.Property(x => x.ComponentVersion).HasMaxLength(50);
        builder.Property(x => x.ComponentSha256).HasMaxLength(64);
        builder.Property(x => x.State).HasMaxLength(16);
        builder.Property(x => x.EndReason).HasMaxLength(32);
        builder.HasIndex(x => new { x.ProjectId, x.CreatedAt });
    }
}
