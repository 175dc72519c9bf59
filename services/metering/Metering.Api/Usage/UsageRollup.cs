namespace StitchFin.Metering.Usage;

/// <summary>
/// Running totals for one tenant, Chicago day, provider and agent. Written only by
/// <see cref="UsageRollupSql.RecordOnce"/>; <c>/usage</c> reads these rows and never individual events.
/// </summary>
public sealed class UsageRollup
{
    public Guid TenantId { get; set; }
    public DateOnly Day { get; set; }
    public required string Provider { get; set; }
    public Guid AgentId { get; set; }
    public long Messages { get; set; }
    public long TokensIn { get; set; }
    public long TokensOut { get; set; }
    public decimal CostUsd { get; set; }
}

/// <summary>
/// Running totals for one tenant and Chicago day: the sum of that day's <see cref="UsageRollup"/> rows, kept by the
/// same statement so a report's days and totals read one row per day instead of one per day, provider and agent.
/// </summary>
public sealed class UsageDay
{
    public Guid TenantId { get; set; }
    public DateOnly Day { get; set; }
    public long Messages { get; set; }
    public long TokensIn { get; set; }
    public long TokensOut { get; set; }
    public decimal CostUsd { get; set; }
}

/// <summary>An event id already counted; its primary key is what makes redelivery harmless.</summary>
public sealed class ProcessedEvent
{
    public Guid EventId { get; set; }
    public DateTimeOffset ProcessedAt { get; set; }
}
