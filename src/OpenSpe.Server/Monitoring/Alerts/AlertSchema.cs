using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Monitoring.Alerts;

/// <summary>The <c>alerts</c> table (applied by SpeDbContext).</summary>
internal sealed class AlertConfiguration : IEntityTypeConfiguration<AlertEntity>
{
    public void Configure(EntityTypeBuilder<AlertEntity> builder)
    {
        builder.ToTable("alerts");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.Rule).HasMaxLength(64);
        builder.Property(x => x.GroupBy).HasMaxLength(32);
        builder.Property(x => x.Key).HasMaxLength(200);
        builder.Property(x => x.Description).HasMaxLength(1000);
        builder.Property(x => x.ProjectId).HasMaxLength(64);
        builder.Property(x => x.State).HasMaxLength(16);
        builder.Property(x => x.AcknowledgedBy).HasMaxLength(450);
        builder.Property(x => x.Note).HasMaxLength(2000);
        builder.Property(x => x.IncidentId).HasMaxLength(64);
        builder.Property(x => x.Revision).IsConcurrencyToken();
        // Note: the list reads newest first, optionally of one state, and pages on (FiredAtMicros, Id): both orders are indexed.
        builder.HasIndex(x => new { x.FiredAtMicros, x.Id });
        builder.HasIndex(x => new { x.State, x.FiredAtMicros, x.Id });
    }
}
