using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using StitchFin.Conversation.Idempotency;

namespace StitchFin.Conversation.Data;

public sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_records");
        // The key that makes claiming exclusive (INSERT ... ON CONFLICT (tenant_id, key) DO NOTHING).
        builder.HasKey(r => new { r.TenantId, r.Key });
        builder.Property(r => r.Key).HasMaxLength(IdempotencyKey.MaxLength);
        builder.Property(r => r.RequestHash).HasMaxLength(64).IsFixedLength();
        builder.Property(r => r.State).HasMaxLength(16);
        builder.HasIndex(r => r.ExpiresAt);
    }
}
