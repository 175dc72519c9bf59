using StitchFin.Contracts.Conversation;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Tests;

public sealed class UsageEntryTests
{
    private static readonly MessageCompleted Valid = Events.Completed(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.Parse("2026-11-02T05:30:00Z"),
        provider: "VendorB", tokensIn: 12, tokensOut: 34, costUsd: 0.000172m);

    [Fact]
    public void Valid_event_keeps_its_own_cost_and_lands_on_its_Chicago_day()
    {
        var entry = UsageEntry.From(Valid);

        Assert.Equal(Valid.EventId, entry.EventId);
        Assert.Equal(new DateOnly(2026, 11, 1), entry.Day);
        Assert.Equal(("VendorB", 12, 34, 0.000172m), (entry.Provider, entry.TokensIn, entry.TokensOut, entry.CostUsd));
    }

    [Fact]
    public void Unknown_channel_is_metered()
    {
        Assert.Equal(Valid.EventId, UsageEntry.From(Valid with { Channel = "carrier-pigeon" }).EventId);
    }

    public static TheoryData<string, MessageCompleted> InvalidEvents => new()
    {
        { "eventId", Valid with { EventId = Guid.Empty } },
        { "tenantId", Valid with { TenantId = Guid.Empty } },
        { "agentId", Valid with { AgentId = Guid.Empty } },
        { "provider", Valid with { Provider = " " } },
        { "provider", Valid with { Provider = new string('x', 65) } },
        { "tokensIn", Valid with { TokensIn = -1 } },
        { "tokensOut", Valid with { TokensOut = -1 } },
        { "costUsd", Valid with { CostUsd = -0.000001m } },
        { "costUsd", Valid with { CostUsd = 0.0000001m } },
        { "costUsd", Valid with { CostUsd = 1_000_000_000_000m } },
        { "occurredAt", Valid with { OccurredAt = default } },
    };

    [Theory]
    [MemberData(nameof(InvalidEvents))]
    public void Invalid_event_is_refused_naming_the_field(string field, MessageCompleted message)
    {
        var error = Assert.Throws<InvalidUsageEventException>(() => UsageEntry.From(message));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }
}
