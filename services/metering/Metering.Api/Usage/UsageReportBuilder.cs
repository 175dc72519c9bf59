namespace StitchFin.Metering.Usage;

/// <summary>
/// Folds what <see cref="UsageReportQuery"/> reads into the report: one row per day that has usage (from the day
/// rollups) and one row per provider and agent with its totals over the range. Days without a row are zeros.
/// </summary>
public sealed class UsageReportBuilder(Guid tenantId, UsageRange range)
{
    private readonly Tally[] _days = new Tally[range.Days];
    private readonly Dictionary<string, Tally> _providers = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, Tally> _agents = [];

    public void AddDay(DateOnly day, long messages, long tokensIn, long tokensOut, decimal costUsd)
    {
        var index = day.DayNumber - range.From.DayNumber;
        if ((uint)index >= (uint)_days.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(day), day, $"Outside {range.From}..{range.To}.");
        }

        _days[index] += new Tally(messages, tokensIn, tokensOut, costUsd);
    }

    public void AddProviderAgent(string provider, Guid agentId, long messages, long tokensIn, long tokensOut, decimal costUsd)
    {
        var amounts = new Tally(messages, tokensIn, tokensOut, costUsd);
        _providers[provider] = _providers.GetValueOrDefault(provider) + amounts;
        _agents[agentId] = _agents.GetValueOrDefault(agentId) + amounts;
    }

    public UsageReport Build()
    {
        var total = default(Tally);
        var byDay = new DailyUsage[_days.Length];
        for (var i = 0; i < _days.Length; i++)
        {
            var day = _days[i];
            total += day;
            byDay[i] = new DailyUsage(range.From.AddDays(i), day.Messages, day.TokensIn, day.TokensOut, day.CostUsd);
        }

        var byProvider = _providers
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new ProviderUsage(p.Key, p.Value.Messages, p.Value.TokensIn, p.Value.TokensOut, p.Value.CostUsd))
            .ToList();
        // Biggest spenders first, as a dashboard lists them; the id keeps equal costs in a stable order.
        var byAgent = _agents
            .OrderByDescending(a => a.Value.CostUsd).ThenBy(a => a.Key)
            .Select(a => new AgentUsage(a.Key, a.Value.Messages, a.Value.TokensIn, a.Value.TokensOut, a.Value.CostUsd))
            .ToList();

        return new UsageReport(
            tenantId,
            range.From,
            range.To,
            ChicagoCalendar.TimeZoneId,
            new UsageTotals(total.Messages, total.TokensIn, total.TokensOut, total.CostUsd),
            byDay,
            byProvider,
            byAgent);
    }

    private readonly record struct Tally(long Messages, long TokensIn, long TokensOut, decimal CostUsd)
    {
        public static Tally operator +(Tally a, Tally b) =>
            new(a.Messages + b.Messages, a.TokensIn + b.TokensIn, a.TokensOut + b.TokensOut, a.CostUsd + b.CostUsd);
    }
}
