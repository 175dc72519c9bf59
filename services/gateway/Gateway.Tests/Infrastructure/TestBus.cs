using System.Threading.Channels;
using MassTransit;
using StitchFin.Contracts.Gateway;
using StitchFin.Testing;

namespace StitchFin.Gateway.Tests.Infrastructure;

/// <summary>A bus of the test's own on the gateway's virtual host: publishes events and collects what the edge publishes.</summary>
public sealed class TestBus : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly Channel<ApiKeyUsed> _keyUses = Channel.CreateUnbounded<ApiKeyUsed>();

    private TestBus(RabbitMqEndpoint rabbit)
    {
        _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbit.Host, (ushort)rabbit.Port, rabbit.VirtualHost, host =>
            {
                host.Username(rabbit.Username);
                host.Password(rabbit.Password);
                host.PublisherConfirmation = true;
            });
            cfg.ReceiveEndpoint("gateway-tests-api-key-used", endpoint =>
                endpoint.Handler<ApiKeyUsed>(context => _keyUses.Writer.WriteAsync(context.Message).AsTask()));
        });
    }

    public static async Task<TestBus> StartAsync(RabbitMqEndpoint rabbit)
    {
        var bus = new TestBus(rabbit);
        await bus._bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        return bus;
    }

    public Task PublishAsync<T>(T message)
        where T : class => _bus.Publish(message);

    /// <summary>The next <see cref="ApiKeyUsed"/> for this key, or null when none arrives within the wait.</summary>
    public async Task<ApiKeyUsed?> NextKeyUseAsync(Guid keyId, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var used = await _keyUses.Reader.ReadAsync(timeout.Token);
                if (used.KeyId == keyId)
                {
                    return used;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
