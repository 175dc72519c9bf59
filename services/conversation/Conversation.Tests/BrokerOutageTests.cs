using System.Net;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>
/// The service on a broker of this test's own, which the test stops: messages keep succeeding, and once the broker
/// is back every event arrives, each exactly once.
/// </summary>
public sealed class BrokerOutageTests : IAsyncLifetime
{
    private TestInfrastructure _infrastructure = null!;
    private DedicatedRabbitMq _broker = null!;
    private FakeProviders _providers = null!;
    private EventCollector _events = null!;
    private ConversationFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync(nameof(BrokerOutageTests));
        _broker = await DedicatedRabbitMq.StartAsync("conversation-outage");
        _providers = await FakeProviders.StartAsync();
        _events = await EventCollector.StartAsync(_broker.Endpoint, "conversation-outage-message-completed");
        var configuration = _infrastructure.Configuration;
        configuration["RabbitMq:Host"] = _broker.Endpoint.Host;
        configuration["RabbitMq:Port"] = _broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        configuration["RabbitMq:Username"] = _broker.Endpoint.Username;
        configuration["RabbitMq:Password"] = _broker.Endpoint.Password;
        configuration["RabbitMq:VirtualHost"] = "/";
        configuration["Services:Providers"] = _providers.BaseAddress;
        _factory = new ConversationFactory(configuration);
        _ = _factory.Server;
    }

    [Fact]
    public async Task Messages_succeed_while_the_broker_is_down_and_every_event_arrives_exactly_once_after()
    {
        var tenant = new TenantClient(_factory.CreateClientFor(Guid.NewGuid()));
        var session = await tenant.CreateSessionAsync();
        var before = await tenant.SendMessageOkAsync(session, "Before the outage");
        await _events.WaitUntilAsync(e => e.Received.Count == 1, TimeSpan.FromSeconds(60));
        Assert.Single(_events.Received);

        await _broker.StopAsync();
        var during = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var reply = await tenant.SendMessageAsync(session, $"outage-{i}", $"During the outage {i}");
            Assert.Equal(HttpStatusCode.Created, reply.Status);
            during.Add(reply.Json["assistantMessage"]!["id"]!.GetValue<Guid>());
        }

        await _broker.StartAsync();
        var expected = during.Prepend(before["assistantMessage"]!["id"]!.GetValue<Guid>()).ToHashSet();
        await _events.WaitUntilAsync(e => expected.All(id => e.Received.Any(r => r.Event.AssistantMessageId == id)), TimeSpan.FromSeconds(120));
        // A moment more for any duplicate to show up.
        await Task.Delay(TimeSpan.FromSeconds(2));

        var received = _events.Received.ToList();
        Assert.Equal(expected.Order(), received.Select(r => r.Event.AssistantMessageId).Order());
        Assert.Equal(received.Count, received.Select(r => r.Event.EventId).Distinct().Count());
        Assert.All(received, r => Assert.Equal(r.Event.EventId, r.MessageId));
        Assert.Equal(12, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _events.DisposeAsync();
        await _providers.DisposeAsync();
        await _broker.DisposeAsync();
        await _infrastructure.DisposeAsync();
    }
}
