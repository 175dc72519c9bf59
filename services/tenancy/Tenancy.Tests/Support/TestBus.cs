using System.Collections.Concurrent;
using MassTransit;
using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests.Support;

/// <summary>A MassTransit bus of the test's own on the service's virtual host: it plays the edge (publisher and listener).</summary>
public static class TestBus
{
    public static async Task<IBusControl> StartAsync(RabbitMqEndpoint rabbitMq, Action<IRabbitMqBusFactoryConfigurator>? configure = null)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(rabbitMq.Host, (ushort)rabbitMq.Port, rabbitMq.VirtualHost, host =>
            {
                host.Username(rabbitMq.Username);
                host.Password(rabbitMq.Password);
                host.PublisherConfirmation = true;
            });
            configure?.Invoke(rabbit);
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await bus.StartAsync(timeout.Token);
        return bus;
    }
}

/// <summary>Completes when the service's own bus has finished consuming a given event (identified by its id).</summary>
public sealed class ConsumedEvents<T>(Func<T, Guid> eventId) : IConsumeObserver
    where T : class
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _consumed = new();

    public Task WaitForAsync(Guid id) => Completion(id).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public Task PreConsume<TMessage>(ConsumeContext<TMessage> context)
        where TMessage : class => Task.CompletedTask;

    public Task PostConsume<TMessage>(ConsumeContext<TMessage> context)
        where TMessage : class
    {
        if (context.Message is T message)
        {
            Completion(eventId(message)).TrySetResult();
        }

        return Task.CompletedTask;
    }

    public Task ConsumeFault<TMessage>(ConsumeContext<TMessage> context, Exception exception)
        where TMessage : class => Task.CompletedTask;

    private TaskCompletionSource Completion(Guid id) =>
        _consumed.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
