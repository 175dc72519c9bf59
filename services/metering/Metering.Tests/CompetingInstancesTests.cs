using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.Testing;

namespace StitchFin.Metering.Tests;

public sealed class CompetingInstancesTests : IAsyncLifetime
{
    private const int EventCount = 500;
    private TestInfrastructure _infrastructure = null!;
    private MeteringFactory _first = null!;
    private MeteringFactory _second = null!;

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync(nameof(CompetingInstancesTests));
        _first = new MeteringFactory(_infrastructure.Configuration);
        await _first.WaitUntilReadyAsync();
        _second = new MeteringFactory(_infrastructure.Configuration);
        await _second.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
        await _infrastructure.DisposeAsync();
    }

    [Fact]
    public async Task Two_instances_on_one_queue_count_every_event_exactly_once_even_when_each_is_delivered_twice()
    {
        using var firstCounted = Collect(_first, MeteringTelemetry.EventsConsumed);
        using var secondCounted = Collect(_second, MeteringTelemetry.EventsConsumed);
        using var firstSkipped = Collect(_first, MeteringTelemetry.DuplicatesSkipped);
        using var secondSkipped = Collect(_second, MeteringTelemetry.DuplicatesSkipped);
        var tenant = Guid.NewGuid();
        var agents = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        var random = new Random(500);
        var start = DateTimeOffset.Parse("2026-04-01T00:00:00Z");
        var events = Enumerable.Range(0, EventCount)
            .Select(i => Events.Completed(
                tenant,
                agents[i % agents.Length],
                start.AddMinutes(random.Next(0, 7 * 24 * 60)),
                i % 2 == 0 ? ProviderNames.VendorA : ProviderNames.VendorB,
                tokensIn: random.Next(1, 500),
                tokensOut: random.Next(30, 121),
                costUsd: random.Next(1, 2_000_000) / 1_000_000m))
            .ToList();

        // Every event goes out twice, interleaved, so the copies race each other on the two instances.
        foreach (var chunk in events.Concat(events).Chunk(100))
        {
            await Task.WhenAll(chunk.Select(e => _first.Bus.Publish(e)));
        }

        var report = await _first.WaitForUsageAsync(tenant, "2026-03-31", "2026-04-08", r => r.Totals.Messages >= EventCount);
        await WaitForAsync(() => Count(firstCounted, secondCounted) + Count(firstSkipped, secondSkipped) >= 2 * EventCount);
        report = await _second.GetUsageAsync(tenant, "2026-03-31", "2026-04-08");

        Assert.Equal(new Usage.UsageTotals(
            EventCount,
            events.Sum(e => (long)e.TokensIn),
            events.Sum(e => (long)e.TokensOut),
            events.Sum(e => e.CostUsd)), report.Totals);
        Assert.Equal(EventCount, Count(firstCounted, secondCounted));
        Assert.Equal(EventCount, Count(firstSkipped, secondSkipped));
        Assert.True(firstCounted.GetMeasurementSnapshot().Count > 0, "the first instance consumed nothing");
        Assert.True(secondCounted.GetMeasurementSnapshot().Count > 0, "the second instance consumed nothing");
        foreach (var group in events.GroupBy(e => e.Provider))
        {
            var provider = Assert.Single(report.ByProvider, p => p.Provider == group.Key);
            Assert.Equal((group.LongCount(), group.Sum(e => e.CostUsd)), (provider.Messages, provider.CostUsd));
        }
    }

    private static MetricCollector<long> Collect(MeteringFactory factory, string instrument) =>
        new(factory.Services.GetRequiredService<IMeterFactory>(), MeteringTelemetry.Name, instrument);

    private static int Count(params MetricCollector<long>[] collectors) => collectors.Sum(c => c.GetMeasurementSnapshot().Count);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + MeteringFactory.Patience;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }
}
