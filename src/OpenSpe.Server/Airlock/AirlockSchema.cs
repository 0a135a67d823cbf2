using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Airlock;

// The airlock module's tables (applied by SpeDbContext).

internal sealed class AirlockRequestConfiguration : IEntityTypeConfiguration<AirlockRequestEntity>
{
    public void Configure(EntityTypeBuilder<AirlockRequestEntity> builder)
    {
        builder.ToTable("airlock_requests");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.ProjectId).HasMaxLength(64);
        builder.Property(x => x.Direction).HasMaxLength(8);
        builder.Property(x => x.RequestedBy).HasMaxLength(450);
        builder.Property(x => x.RequestedByName).HasMaxLength(256);
        builder.Property(x => x.Reason).HasMaxLength(2000);
        builder.Property(x => x.State).HasMaxLength(24);
        builder.HasIndex(x => new { x.ProjectId, x.Direction, x.CreatedAt });
    }
}

internal sealed class AirlockFileConfiguration : IEntityTypeConfiguration<AirlockFileEntity>
{
    public void Configure(EntityTypeBuilder<AirlockFileEntity> builder)
    {
        builder.ToTable("airlock_files");
        builder.HasKey(x => new { x.RequestId, x.Name });
        builder.Property(x => x.RequestId).HasMaxLength(64);
        builder.Property(x => x.Name).HasMaxLength(255);
        builder.Property(x => x.Sha256).HasMaxLength(64);
        builder.Property(x => x.ObjectKey).HasMaxLength(251);
        builder.Property(x => x.CheckStatus).HasMaxLength(8);
        builder.Property(x => x.State).HasMaxLength(24);
        builder.Property(x => x.Placement).HasMaxLength(24);
        builder.Property(x => x.PlacementProblem).HasMaxLength(500);
    }
}

internal sealed class AirlockReviewConfiguration : IEntityTypeConfiguration<AirlockReviewEntity>
{
    public void Configure(EntityTypeBuilder<AirlockReviewEntity> builder)
    {
        builder.ToTable("airlock_reviews");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.RequestId).HasMaxLength(64);
        builder.Property(x => x.FileName).HasMaxLength(255);
        builder.Property(x => x.ReviewerId).HasMaxLength(450);
        builder.Property(x => x.ReviewerName).HasMaxLength(256);
        builder.Property(x => x.Decision).HasMaxLength(8);
        builder.Property(x => x.Comment).HasMaxLength(2000);
        builder.Property(x => x.Override).HasMaxLength(2000);
        // Note: one decision per checker and file, enforced by the database too, so two racing reviews by one checker count once.
        builder.HasIndex(x => new { x.RequestId, x.FileName, x.ReviewerId }).IsUnique();
    }
}
