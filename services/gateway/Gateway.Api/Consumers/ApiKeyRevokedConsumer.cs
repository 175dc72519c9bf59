using MassTransit;
using StitchFin.Contracts.Tenancy;
using StitchFin.Gateway.ApiKeys;

namespace StitchFin.Gateway.Consumers;

/// <summary>
/// Evicts a revoked key. It runs on a temporary endpoint of each edge instance (not a shared queue), so every
/// instance hears every revocation; see <see cref="ApiKeyRevocations"/>.
/// </summary>
[ExcludeFromConfigureEndpoints]
public sealed class ApiKeyRevokedConsumer(ApiKeyVerifier verifier) : IConsumer<ApiKeyRevoked>
{
    public Task Consume(ConsumeContext<ApiKeyRevoked> context)
    {
        verifier.Evict(context.Message.KeyId);
        return Task.CompletedTask;
    }
}

public static class ApiKeyRevocations
{
    public static void ConfigureEndpoint(IBusRegistrationContext context, IRabbitMqBusFactoryConfigurator rabbit) =>
        rabbit.ReceiveEndpoint(new TemporaryEndpointDefinition("edge-key-revocations"), endpoint =>
        {
            var feed = context.GetRequiredService<RevocationFeed>();
            endpoint.ConfigureConsumer<ApiKeyRevokedConsumer>(context);
            endpoint.Handler<RevocationProbe>(probe =>
            {
                feed.MarkUpToDate(probe.Message.SentAt);
                return Task.CompletedTask;
            });
            endpoint.ConnectReceiveEndpointObserver(new ClearCacheWhenReady(
                context.GetRequiredService<ApiKeyVerifier>(), feed, context.GetRequiredService<TimeProvider>()));
        });

    /// <summary>
    /// A temporary queue does not exist while the bus is disconnected, so revocations published meanwhile are
    /// lost to this instance: each time the endpoint (re)connects, cached verifications are dropped instead. From
    /// then on the queue is bound, so the feed is up to date as of that moment, and there is a queue to probe.
    /// </summary>
    private sealed class ClearCacheWhenReady(ApiKeyVerifier verifier, RevocationFeed feed, TimeProvider time) : IReceiveEndpointObserver
    {
        public Task Ready(ReceiveEndpointReady ready)
        {
            var readyAt = time.GetUtcNow();
            verifier.Clear();
            feed.MarkUpToDate(readyAt);
            feed.Address = ready.InputAddress;
            return Task.CompletedTask;
        }

        public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

        public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

        public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
    }
}
