using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Operations.Incidents;

// The incident tables (applied by SpeDbContext).

internal sealed class IncidentConfiguration : IEntityTypeConfiguration<IncidentEntity>
{
    public void Configure(EntityTypeBuilder<IncidentEntity> builder)
    {
        builder.ToTable("incidents");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.Title).HasMaxLength(200);
        builder.Property(x => x.Description).HasMaxLength(8000);
        builder.Property(x => x.Severity).HasMaxLength(16);
        builder.Property(x => x.State).HasMaxLength(16);
        builder.Property(x => x.OpenedBy).HasMaxLength(450);
        builder.Property(x => x.AffectedJson).HasMaxLength(16000);
        builder.Property(x => x.Revision).IsConcurrencyToken();
    }
}

internal sealed class IncidentEventConfiguration : IEntityTypeConfiguration<IncidentEventEntity>
{
    public void Configure(EntityTypeBuilder<IncidentEventEntity> builder)
    {
        builder.ToTable("incident_events");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.IncidentId).HasMaxLength(64);
        builder.Property(x => x.Kind).HasMaxLength(16);
        builder.Property(x => x.By).HasMaxLength(450);
        builder.Property(x => x.Note).HasMaxLength(8000);
        builder.Property(x => x.Stage).HasMaxLength(16);
        builder.Property(x => x.Recipient).HasMaxLength(256);
        builder.Property(x => x.ContentSha256).HasMaxLength(64);
        builder.Property(x => x.Content).HasMaxLength(65536);
        builder.HasIndex(x => x.IncidentId);
    }
}
