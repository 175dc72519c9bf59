using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;

namespace StitchFin.Metering.Tests;

public static class Events
{
    public static MessageCompleted Completed(
        Guid tenantId,
        Guid agentId,
        DateTimeOffset occurredAt,
        string provider = ProviderNames.VendorA,
        int tokensIn = 10,
        int tokensOut = 40,
        decimal costUsd = 0.000270m) =>
        new(
            EventId: Guid.NewGuid(),
            TenantId: tenantId,
            AgentId: agentId,
            SessionId: Guid.NewGuid(),
            UserMessageId: Guid.NewGuid(),
            AssistantMessageId: Guid.NewGuid(),
            Provider: provider,
            FallbackUsed: false,
            TokensIn: tokensIn,
            TokensOut: tokensOut,
            CostUsd: costUsd,
            LatencyMs: 120,
            Channel: Channels.Text,
            OccurredAt: occurredAt);
}
