namespace StitchFin.Contracts.Conversation;

/// <summary>
/// A user message got its assistant reply and was charged. Published once per exchange through the
/// conversation outbox; <see cref="EventId"/> is the MassTransit message id, so consumers deduplicate on it.
/// <see cref="Model"/> and <see cref="UsageEstimated"/> were added later: older events carry neither.
/// </summary>
public sealed record MessageCompleted(
    Guid EventId,
    Guid TenantId,
    Guid AgentId,
    Guid SessionId,
    Guid UserMessageId,
    Guid AssistantMessageId,
    string Provider,
    bool FallbackUsed,
    int TokensIn,
    int TokensOut,
    decimal CostUsd,
    int LatencyMs,
    string Channel,
    DateTimeOffset OccurredAt,
    string? Model = null,
    bool UsageEstimated = false);
