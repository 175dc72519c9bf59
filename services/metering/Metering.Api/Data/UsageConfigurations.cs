using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Data;

public sealed class UsageRollupConfiguration : IEntityTypeConfiguration<UsageRollup>
{
    public void Configure(EntityTypeBuilder<UsageRollup> builder)
    {
        builder.ToTable("usage_rollups");
        // The key leads with (tenant_id, day), which is exactly what /usage filters on.
        builder.HasKey(r => new { r.TenantId, r.Day, r.Provider, r.AgentId });
        builder.Property(r => r.Provider).HasMaxLength(UsageEntry.MaxProviderLength);
        builder.Property(r => r.CostUsd).HasColumnType("numeric(18,6)");
    }
}

public sealed class UsageDayConfiguration : IEntityTypeConfiguration<UsageDay>
{
    public void Configure(EntityTypeBuilder<UsageDay> builder)
    {
        builder.ToTable("usage_days");
        builder.HasKey(d => new { d.TenantId, d.Day });
        builder.Property(d => d.CostUsd).HasColumnType("numeric(18,6)");
    }
}

public sealed class ProcessedEventConfiguration : IEntityTypeConfiguration<ProcessedEvent>
{
    public void Configure(EntityTypeBuilder<ProcessedEvent> builder)
    {
        builder.ToTable("processed_events");
        builder.HasKey(e => e.EventId);
        builder.Property(e => e.EventId).ValueGeneratedNever();
    }
}
