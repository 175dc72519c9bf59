using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using StitchFin.Testing;

namespace StitchFin.Metering.Tests;

public sealed class RedeliveryTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-06-10T17:00:00Z");
    private readonly FakeTimeProvider _time = new(Now);
    private TestInfrastructure _infrastructure = null!;
    private MeteringFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync(nameof(RedeliveryTests));
        _factory = new MeteringFactory(_infrastructure.Configuration, _time);
        await _factory.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _infrastructure.DisposeAsync();
    }

    [Fact]
    public async Task The_same_event_delivered_three_times_counts_once()
    {
        var meters = _factory.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var consumed = new MetricCollector<long>(meters, MeteringTelemetry.Name, MeteringTelemetry.EventsConsumed);
        using var duplicates = new MetricCollector<long>(meters, MeteringTelemetry.Name, MeteringTelemetry.DuplicatesSkipped);
        using var lag = new MetricCollector<double>(meters, MeteringTelemetry.Name, MeteringTelemetry.EventLag);
        var tenant = Guid.NewGuid();
        var message = Events.Completed(tenant, Guid.NewGuid(), Now.AddSeconds(-90), tokensIn: 11, tokensOut: 22, costUsd: 0.000165m);

        for (var delivery = 0; delivery < 3; delivery++)
        {
            await _factory.Bus.Publish(message);
        }

        await duplicates.WaitForMeasurementsAsync(2, MeteringFactory.Patience);
        await consumed.WaitForMeasurementsAsync(1, MeteringFactory.Patience);
        var report = await _factory.GetUsageAsync(tenant, "2026-06-10", "2026-06-10");

        Assert.Equal(new Usage.UsageTotals(1, 11, 22, 0.000165m), report.Totals);
        Assert.Single(consumed.GetMeasurementSnapshot());
        Assert.Equal(2, duplicates.GetMeasurementSnapshot().Count);
        Assert.Equal(90d, Assert.Single(lag.GetMeasurementSnapshot()).Value);
    }
}
