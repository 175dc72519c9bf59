using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using StitchFin.Tenancy.Keys;
using StitchFin.Tenancy.Tenants;

namespace StitchFin.Tenancy.Data;

public sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("api_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Id).ValueGeneratedNever();
        builder.Property(k => k.Name).HasMaxLength(ApiKey.MaxNameLength);
        builder.Property(k => k.Prefix).HasMaxLength(ApiKeyFormat.PrefixLength);
        builder.Property(k => k.LookupId).HasMaxLength(ApiKeyFormat.LookupIdLength);
        builder.Property(k => k.Hash).HasColumnType("bytea");

        // Verification finds a key by its lookup id alone; the unique index also rejects a (vanishingly rare) repeat.
        builder.HasIndex(k => k.LookupId).IsUnique();
        // GET /keys pages newest first by (createdAt, id).
        builder.HasIndex(k => new { k.TenantId, k.CreatedAt, k.Id });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(k => k.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
