using System.Collections.Concurrent;
using MassTransit;
using StitchFin.Contracts.Conversation;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests.Infrastructure;

/// <summary>
/// A MassTransit bus of the test's own on the service's broker, with a queue bound to <see cref="MessageCompleted"/>.
/// It records every delivery as it comes (no deduplication), so tests can count arrivals per event id.
/// </summary>
public sealed class EventCollector : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private EventCollector(IBusControl bus) => _bus = bus;

    public ConcurrentQueue<(Guid? MessageId, MessageCompleted Event)> Received { get; } = new();

    public static async Task<EventCollector> StartAsync(RabbitMqEndpoint broker, string queueName)
    {
        EventCollector? collector = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker.Host, (ushort)broker.Port, broker.VirtualHost, host =>
            {
                host.Username(broker.Username);
                host.Password(broker.Password);
            });
            rabbit.ReceiveEndpoint(queueName, endpoint => endpoint.Handler<MessageCompleted>(context =>
            {
                collector!.Received.Enqueue((context.MessageId, context.Message));
                return Task.CompletedTask;
            }));
        });
        collector = new EventCollector(bus);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await bus.StartAsync(timeout.Token);
        return collector;
    }

    public IReadOnlyList<MessageCompleted> ForSession(Guid sessionId) =>
        Received.Where(r => r.Event.SessionId == sessionId).Select(r => r.Event).ToList();

    /// <summary>Polls until <paramref name="done"/> holds or the patience runs out (then the caller's assert explains).</summary>
    public async Task WaitUntilAsync(Func<EventCollector, bool> done, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(30));
        while (!done(this) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
