using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Persistence;

// The host's own table of small facts kept across restarts.

internal sealed class ServerSettingConfiguration : IEntityTypeConfiguration<ServerSettingEntity>
{
    public void Configure(EntityTypeBuilder<ServerSettingEntity> builder)
    {
        builder.ToTable("server_settings");
        builder.HasKey(x => x.Name);
        builder.Property(x => x.Name).HasColumnName("name").HasMaxLength(100);
        builder.Property(x => x.Value).HasColumnName("value").HasMaxLength(4000);
    }
}
