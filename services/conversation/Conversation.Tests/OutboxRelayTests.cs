using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.ServiceDefaults;
using StitchFin.ServiceDefaults.Outbox;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>
/// The outbox relay against a broker where, at first, no queue is bound for usage events (metering's queue deleted
/// while metering was away): the events wait in the outbox instead of being confirmed into nowhere, and a row the
/// relay cannot read is parked without holding up the rows behind it.
/// </summary>
public sealed class OutboxRelayTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<Guid, int> _refusedPublishes = new();
    private TestInfrastructure _infrastructure = null!;
    private FakeProviders _providers = null!;
    private ConversationFactory _factory = null!;
    private ActivityListener _listener = null!;

    public async Task InitializeAsync()
    {
        // Every publish the broker did not take shows as an outbox span with an error status.
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == $"{Telemetry.SourcePrefix}.Outbox",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.Status == ActivityStatusCode.Error && activity.GetTagItem("messaging.message.id") is Guid id)
                {
                    _refusedPublishes.AddOrUpdate(id, 1, (_, count) => count + 1);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
        _infrastructure = await TestInfrastructure.StartAsync(nameof(OutboxRelayTests));
        _providers = await FakeProviders.StartAsync();
        var configuration = _infrastructure.Configuration;
        configuration["Services:Providers"] = _providers.BaseAddress;
        _factory = new ConversationFactory(configuration);
        _ = _factory.Server;
    }

    [Fact]
    public async Task Usage_events_no_queue_is_bound_for_wait_in_the_outbox_until_one_is()
    {
        var tenant = new TenantClient(_factory.CreateClientFor(Guid.NewGuid()));
        var session = await tenant.CreateSessionAsync();
        for (var i = 0; i < 3; i++)
        {
            await tenant.SendMessageOkAsync(session, $"Nobody is listening {i}");
        }

        var waiting = await OutboxAsync(db => db.Set<OutboxMessage>().Select(m => m.MessageId).ToListAsync());
        Assert.Equal(3, waiting.Count);
        await WaitUntilAsync(() => waiting.All(_refusedPublishes.ContainsKey), "every event was offered to the broker and returned");
        Assert.Equal(3, await OutboxAsync(db => db.Set<OutboxMessage>().CountAsync()));

        await using var events = await EventCollector.StartAsync(_infrastructure.RabbitMq, "outbox-tests-message-completed");
        await events.WaitUntilAsync(e => waiting.All(id => e.Received.Any(r => r.MessageId == id)), TimeSpan.FromSeconds(60));

        Assert.Equal(waiting.Order(), events.ForSession(session).Select(e => e.EventId).Order());
        await WaitUntilAsync(async () => await OutboxAsync(db => db.Set<OutboxMessage>().CountAsync()) == 0, "the outbox emptied");
    }

    [Fact]
    public async Task A_row_of_an_unknown_type_is_parked_and_never_holds_up_the_rows_behind_it()
    {
        await using var events = await EventCollector.StartAsync(_infrastructure.RabbitMq, "outbox-tests-parking");
        var unknown = OutboxModel.For(Guid.NewGuid(), new { Hello = "from a newer version" }, DateTimeOffset.UtcNow);
        unknown.MessageType = "StitchFin.Contracts.Conversation.SomethingNewer";
        await OutboxAsync(async db =>
        {
            // A full batch of them, so a relay that kept them in its way would never reach the message below.
            for (var i = 0; i < 250; i++)
            {
                db.Set<OutboxMessage>().Add(new OutboxMessage { MessageId = Guid.NewGuid(), MessageType = unknown.MessageType, Payload = unknown.Payload, CreatedAt = unknown.CreatedAt });
            }

            return await db.SaveChangesAsync();
        });

        var tenant = new TenantClient(_factory.CreateClientFor(Guid.NewGuid()));
        var session = await tenant.CreateSessionAsync();
        await tenant.SendMessageOkAsync(session, "Behind the unreadable rows");
        await events.WaitUntilAsync(e => e.ForSession(session).Count == 1, TimeSpan.FromSeconds(60));
        Assert.Single(events.ForSession(session));

        await WaitUntilAsync(
            async () => await OutboxAsync(db => db.Set<OutboxMessage>().CountAsync(m => m.ParkedAt != null)) == 250,
            "every unreadable row was parked");
        var rows = await OutboxAsync(db => db.Set<OutboxMessage>().ToListAsync());
        Assert.Equal(250, rows.Count);
        Assert.All(rows, row => Assert.Equal(OutboxRelay<ConversationDbContext>.AttemptsBeforeParking, row.FailedAttempts));
    }

    private async Task<T> OutboxAsync<T>(Func<ConversationDbContext, Task<T>> query)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<ConversationDbContext>());
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not within a minute: {what}");
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _factory.DisposeAsync();
        await _providers.DisposeAsync();
        await _infrastructure.DisposeAsync();
    }
}
