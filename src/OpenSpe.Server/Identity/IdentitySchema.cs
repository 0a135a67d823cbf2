using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OpenSpe.Server.Persistence;

namespace OpenSpe.Server.Identity;

// The identity module's own columns and tables (applied by SpeDbContext, beside ASP.NET Core Identity's and OpenIddict's).

internal sealed class SpeUserConfiguration : IEntityTypeConfiguration<SpeUser>
{
    public void Configure(EntityTypeBuilder<SpeUser> builder)
    {
        builder.Property(x => x.EnrolmentTokenHash).HasMaxLength(64);
        builder.HasIndex(x => x.EnrolmentTokenHash).IsUnique();
    }
}

internal sealed class RoleGrantRequestConfiguration : IEntityTypeConfiguration<RoleGrantRequestEntity>
{
    public void Configure(EntityTypeBuilder<RoleGrantRequestEntity> builder)
    {
        builder.ToTable("role_grant_requests");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).HasMaxLength(64);
        builder.Property(x => x.UserId).HasMaxLength(450);
        builder.Property(x => x.Role).HasMaxLength(64);
        builder.Property(x => x.RequestedBy).HasMaxLength(450);
        builder.Property(x => x.DecidedBy).HasMaxLength(450);
        builder.Property(x => x.Status).HasMaxLength(16);
    }
}
