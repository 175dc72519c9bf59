using StitchFin.Contracts.Conversation;

namespace StitchFin.Metering.Usage;

/// <summary>What one completed message adds to the rollups; built only from a valid event.</summary>
public sealed record UsageEntry(
    Guid EventId,
    Guid TenantId,
    DateOnly Day,
    string Provider,
    Guid AgentId,
    int TokensIn,
    int TokensOut,
    decimal CostUsd)
{
    public const int MaxProviderLength = 64;

    /// <summary>The order of the rows an entry locks: its tenant-day row, then its tenant-day-provider-agent row.</summary>
    public static readonly IComparer<UsageEntry> LockOrder = Comparer<UsageEntry>.Create(static (a, b) =>
    {
        var order = a.TenantId.CompareTo(b.TenantId);
        if (order == 0) order = a.Day.CompareTo(b.Day);
        if (order == 0) order = string.CompareOrdinal(a.Provider, b.Provider);
        if (order == 0) order = a.AgentId.CompareTo(b.AgentId);
        return order;
    });

    /// <summary>numeric(18,6): twelve whole digits.</summary>
    private const decimal MaxCostUsd = 999_999_999_999.999999m;

    /// <summary>
    /// Takes the event's own cost as reported to the caller (never recomputed). Events that cannot be counted
    /// exactly are refused loudly so they end in the error queue instead of skewing the totals.
    /// </summary>
    public static UsageEntry From(MessageCompleted message)
    {
        var problems = new List<string>();
        if (message.EventId == Guid.Empty) problems.Add("eventId is empty");
        if (message.TenantId == Guid.Empty) problems.Add("tenantId is empty");
        if (message.AgentId == Guid.Empty) problems.Add("agentId is empty");
        if (string.IsNullOrWhiteSpace(message.Provider)) problems.Add("provider is missing");
        else if (message.Provider.Length > MaxProviderLength) problems.Add($"provider is longer than {MaxProviderLength} characters");
        if (message.TokensIn < 0) problems.Add("tokensIn is negative");
        if (message.TokensOut < 0) problems.Add("tokensOut is negative");
        if (message.CostUsd < 0 || message.CostUsd > MaxCostUsd) problems.Add("costUsd is out of range");
        else if (decimal.Round(message.CostUsd, 6) != message.CostUsd) problems.Add("costUsd has more than 6 decimals");
        if (message.OccurredAt.Year is < 2000 or > 9998) problems.Add("occurredAt is missing or out of range");

        if (problems.Count > 0)
        {
            throw new InvalidUsageEventException($"MessageCompleted {message.EventId} cannot be metered: {string.Join("; ", problems)}.");
        }

        return new UsageEntry(
            message.EventId,
            message.TenantId,
            ChicagoCalendar.DayOf(message.OccurredAt),
            message.Provider,
            message.AgentId,
            message.TokensIn,
            message.TokensOut,
            message.CostUsd);
    }
}

/// <summary>An event that will never be countable; retrying it cannot help, the error queue shows it.</summary>
public sealed class InvalidUsageEventException(string message) : Exception(message);
