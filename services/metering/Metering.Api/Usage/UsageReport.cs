namespace StitchFin.Metering.Usage;

/// <summary>The body of <c>GET /usage</c> (API.md, Usage).</summary>
public sealed record UsageReport(
    Guid TenantId,
    DateOnly From,
    DateOnly To,
    string Timezone,
    UsageTotals Totals,
    IReadOnlyList<DailyUsage> ByDay,
    IReadOnlyList<ProviderUsage> ByProvider,
    IReadOnlyList<AgentUsage> ByAgent);

public sealed record UsageTotals(long Messages, long TokensIn, long TokensOut, decimal CostUsd);

public sealed record DailyUsage(DateOnly Date, long Messages, long TokensIn, long TokensOut, decimal CostUsd);

public sealed record ProviderUsage(string Provider, long Messages, long TokensIn, long TokensOut, decimal CostUsd);

public sealed record AgentUsage(Guid AgentId, long Messages, long TokensIn, long TokensOut, decimal CostUsd);
