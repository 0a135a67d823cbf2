using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace OpenSpe.Server.Federation.Learning;

// The privacy ledger's table (applied by SpeDbContext).

internal sealed class PrivacyLedgerEntryConfiguration : IEntityTypeConfiguration<PrivacyLedgerEntryEntity>
{
    public void Configure(EntityTypeBuilder<PrivacyLedgerEntryEntity> builder)
    {
        builder.ToTable("privacy_ledger");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Book).HasMaxLength(16);
        builder.Property(x => x.Permit).HasMaxLength(200);
        builder.Property(x => x.Person).HasMaxLength(256);
        builder.Property(x => x.Purpose).HasMaxLength(200);
        builder.HasIndex(x => new { x.Book, x.Permit });
    }
}
