using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Operations.Training;

// The training records' table (applied by SpeDbContext).

internal sealed class TrainingRecordConfiguration : IEntityTypeConfiguration<TrainingRecordEntity>
{
    public void Configure(EntityTypeBuilder<TrainingRecordEntity> builder)
    {
        builder.ToTable("training_records");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.AccountId).HasMaxLength(450);
        builder.Property(x => x.Role).HasMaxLength(32);
        builder.Property(x => x.Course).HasMaxLength(200);
        builder.Property(x => x.RecordedBy).HasMaxLength(256);
        builder.HasIndex(x => x.AccountId);
    }
}
