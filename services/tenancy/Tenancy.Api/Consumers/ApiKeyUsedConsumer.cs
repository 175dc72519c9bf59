using MassTransit;
using Microsoft.EntityFrameworkCore;
using StitchFin.Contracts.Gateway;
using StitchFin.Tenancy.Data;

namespace StitchFin.Tenancy.Consumers;

/// <summary>
/// Keeps <c>lastUsedAt</c> from the edge's sampled usage events with one conditional UPDATE: the time only moves
/// forward, so redelivered, reordered or stale events change nothing, and no deduplication table is needed.
/// </summary>
public sealed class ApiKeyUsedConsumer(TenancyDbContext db) : IConsumer<ApiKeyUsed>
{
    public async Task Consume(ConsumeContext<ApiKeyUsed> context)
    {
        var used = context.Message;
        await db.ApiKeys
            .Where(k => k.Id == used.KeyId && k.TenantId == used.TenantId && (k.LastUsedAt == null || k.LastUsedAt < used.LastUsedAt))
            .ExecuteUpdateAsync(setters => setters.SetProperty(k => k.LastUsedAt, used.LastUsedAt), context.CancellationToken);
    }
}

public sealed class ApiKeyUsedConsumerDefinition : ConsumerDefinition<ApiKeyUsedConsumer>
{
    public ApiKeyUsedConsumerDefinition()
    {
        // Every service shares the virtual host, so the queue carries the owner's name.
        EndpointName = "tenancy-api-key-used";
        // Each message is one short UPDATE; a few at a time keep up with the edge without crowding the connection pool.
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ApiKeyUsedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Retries for transient database errors come from the bus-wide policy in AddMessaging; stacking a second
        // retry here would multiply the attempts. Usage events are advisory, so a message that still fails is parked
        // in the _error queue rather than blocking newer ones.
        endpointConfigurator.PrefetchCount = 16;
    }
}
