using System.Net;
using Xunit.Abstractions;

namespace StitchFin.FaultTests;

/// <summary>
/// Crashes and hangs under load: PostgreSQL and the RabbitMQ node killed (SIGKILL) and started again, conversation
/// and metering frozen (SIGSTOP) and let go on. Whatever the clients were answered 201 for is charged exactly once.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class InfrastructureFaultTests(FaultSystem fixture, ITestOutputHelper output)
{
    private StitchFinSystem System => fixture.System;

    private static readonly TimeSpan RetryFor = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task PostgreSQL_killed_under_load_charges_each_retried_message_once_and_answers_503_while_down()
    {
        const int count = 400;
        var (tenant, sessions) = await FaultSteps.PrepareAsync(System, sessionCount: 4);
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(count, concurrency: 8, retryUntilSuccess: true, RetryFor);

        await FaultSteps.WaitUntilAsync(() => load.Started >= 80, TimeSpan.FromMinutes(2), "80 messages under way");
        try
        {
            await System.Database.KillAsync();
            fixture.Ledger.Fault($"SIGKILL of PostgreSQL during {count} messages (clients retry with the same key)");
            // Down until the clients have been answered without it, at least twice per sender.
            var before = load.Unsuccessful;
            await FaultSteps.WaitUntilAsync(() => load.Unsuccessful - before >= 16, TimeSpan.FromMinutes(2), "clients answered while PostgreSQL is down");
        }
        finally
        {
            await System.Database.StartAsync();
        }

        await sending;
        var statuses = Describe(load);
        output.WriteLine($"statuses seen: {statuses}");

        await FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, count, TimeSpan.FromSeconds(90));
        Assert.False(load.Statuses.ContainsKey(500), $"a database outage must be answered 503, never 500; statuses seen: {statuses}");
        Assert.True(load.Statuses.ContainsKey(503), $"no client was answered 503 while PostgreSQL was down; statuses seen: {statuses}");
    }

    [Fact]
    public async Task RabbitMQ_killed_under_load_loses_and_doubles_nothing()
    {
        const int count = 400;
        var (tenant, sessions) = await FaultSteps.PrepareAsync(System, sessionCount: 4);
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(count, concurrency: 4, retryUntilSuccess: false, TimeSpan.Zero);

        await FaultSteps.WaitUntilAsync(() => load.Started >= 50, TimeSpan.FromMinutes(2), "50 messages under way");
        try
        {
            await System.Broker.KillAsync();
            fixture.Ledger.Fault($"SIGKILL of the RabbitMQ node during {count} messages");
        }
        finally
        {
            await System.Broker.StartAsync();
        }

        await sending;
        output.WriteLine($"statuses seen: {Describe(load)}");
        await FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, count, TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task Conversation_frozen_for_twenty_seconds_under_load_charges_and_stores_each_retried_message_once()
    {
        const int count = 300;
        var (tenant, sessions) = await FaultSteps.PrepareAsync(System, sessionCount: 4);
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(count, concurrency: 8, retryUntilSuccess: true, RetryFor);

        await FaultSteps.WaitUntilAsync(() => load.Started >= 60, TimeSpan.FromMinutes(2), "60 messages under way");
        await System.PauseAsync("conversation");
        try
        {
            fixture.Ledger.Fault($"SIGSTOP of conversation for 20 s during {count} messages (clients retry with the same key)");
            await Task.Delay(TimeSpan.FromSeconds(20));
        }
        finally
        {
            await System.ResumeAsync("conversation");
        }

        await sending;
        output.WriteLine($"statuses seen: {Describe(load)}");
        await FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, count, TimeSpan.FromSeconds(90));
        var stored = 0;
        foreach (var session in sessions)
        {
            stored += (await tenant.WholeTranscriptAsync(session)).Count;
        }

        fixture.Ledger.DoubleCounted(Math.Max(0, stored - 2 * count) / 2);
        Assert.Equal(2 * count, stored);
    }

    [Fact]
    public async Task Metering_frozen_for_thirty_seconds_under_load_counts_every_message_once()
    {
        const int count = 300;
        var (tenant, sessions) = await FaultSteps.PrepareAsync(System, sessionCount: 4);
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(count, concurrency: 4, retryUntilSuccess: false, TimeSpan.Zero);

        await FaultSteps.WaitUntilAsync(() => load.Started >= 50, TimeSpan.FromMinutes(2), "50 messages under way");
        await System.PauseAsync("metering");
        try
        {
            fixture.Ledger.Fault($"SIGSTOP of metering for 30 s during {count} messages");
            await Task.Delay(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await System.ResumeAsync("metering");
        }

        await sending;
        output.WriteLine($"statuses seen: {Describe(load)}");
        await FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, count, TimeSpan.FromSeconds(120));
    }

    private static string Describe(MessageLoad load) =>
        string.Join(", ", load.Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"));
}
