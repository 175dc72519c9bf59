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
            endpoint.ConfigureConsumer<ApiKeyRevokedConsumer>(context);
            endpoint.ConnectReceiveEndpointObserver(new ClearCacheWhenReady(context.GetRequiredService<ApiKeyVerifier>()));
        });

    /// <summary>
    /// A temporary queue does not exist while the bus is disconnected, so revocations published meanwhile are
    /// lost to this instance: each time the endpoint (re)connects, cached verifications are dropped instead.
    /// </summary>
    private sealed class ClearCacheWhenReady(ApiKeyVerifier verifier) : IReceiveEndpointObserver
    {
        public Task Ready(ReceiveEndpointReady ready)
        {
            verifier.Clear();
            return Task.CompletedTask;
        }

        public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

        public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

        public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
    }
}
