using Microsoft.Extensions.DependencyInjection;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Tests;

public sealed class UsageRecorderTests(MeteringFixture fixture) : IClassFixture<MeteringFixture>
{
    private UsageRecorder Recorder => fixture.Factory.Services.GetRequiredService<UsageRecorder>();

    [Fact]
    public async Task Events_recorded_together_each_get_their_own_answer_and_a_repeated_id_counts_once()
    {
        var tenant = Guid.NewGuid();
        var agents = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var entries = Enumerable.Range(0, 40)
            .Select(i => UsageEntry.From(Events.Completed(tenant, agents[i % 2], DateTimeOffset.Parse("2026-05-05T15:00:00Z").AddMinutes(i))))
            .ToList();
        var processedAt = DateTimeOffset.UtcNow;

        // Every event twice, all at once: the recorder batches whatever is waiting, so repeats share batches.
        var answers = await Task.WhenAll(entries.Concat(entries).Select(e => Recorder.RecordAsync(e, processedAt, CancellationToken.None)));

        Assert.Equal(40, answers.Count(counted => counted));
        var report = await fixture.Factory.GetUsageAsync(tenant, "2026-05-05", "2026-05-05");
        Assert.Equal(40, report.Totals.Messages);
        Assert.Equal(entries.Sum(e => (long)e.TokensIn), report.Totals.TokensIn);
        Assert.Equal(entries.Sum(e => e.CostUsd), report.Totals.CostUsd);
        Assert.Equal([20L, 20L], report.ByAgent.Select(a => a.Messages));
    }

    [Fact]
    public void Entries_lock_their_rows_in_tenant_day_provider_agent_order()
    {
        var (t1, t2) = (new Guid("00000000-0000-0000-0000-000000000001"), new Guid("00000000-0000-0000-0000-000000000002"));
        var (a1, a2) = (new Guid("00000000-0000-0000-0000-00000000000a"), new Guid("00000000-0000-0000-0000-00000000000b"));
        static UsageEntry Entry(Guid tenant, int day, string provider, Guid agent) =>
            new(Guid.NewGuid(), tenant, new DateOnly(2026, 1, day), provider, agent, 1, 1, 0m);
        var entries = new List<UsageEntry>
        {
            Entry(t2, 1, "VendorA", a1),
            Entry(t1, 2, "VendorA", a1),
            Entry(t1, 1, "VendorB", a1),
            Entry(t1, 1, "VendorA", a2),
            Entry(t1, 1, "VendorA", a1),
        };

        entries.Sort(UsageEntry.LockOrder);

        Assert.Equal(
            [(t1, 1, "VendorA", a1), (t1, 1, "VendorA", a2), (t1, 1, "VendorB", a1), (t1, 2, "VendorA", a1), (t2, 1, "VendorA", a1)],
            entries.Select(e => (e.TenantId, e.Day.Day, e.Provider, e.AgentId)));
    }
}
