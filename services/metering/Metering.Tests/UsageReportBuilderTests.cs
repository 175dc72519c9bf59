using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Tests;

public sealed class UsageReportBuilderTests
{
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly Guid Cheap = new("00000000-0000-0000-0000-000000000001");
    private static readonly Guid Dear = new("00000000-0000-0000-0000-000000000002");
    private static readonly UsageRange Range = new(new DateOnly(2026, 3, 7), new DateOnly(2026, 3, 9));

    [Fact]
    public void Sums_rows_by_day_provider_and_agent_and_lists_every_day()
    {
        var builder = new UsageReportBuilder(Tenant, Range);
        builder.Add(new DateOnly(2026, 3, 7), "VendorB", Cheap, 2, 20, 200, 0.000002m);
        builder.Add(new DateOnly(2026, 3, 9), "VendorA", Dear, 3, 30, 300, 0.300000m);
        builder.Add(new DateOnly(2026, 3, 9), "VendorB", Cheap, 1, 10, 100, 0.000001m);

        var report = builder.Build();

        Assert.Equal((Tenant, "America/Chicago"), (report.TenantId, report.Timezone));
        Assert.Equal(new UsageTotals(6, 60, 600, 0.300003m), report.Totals);
        Assert.Equal(
            [
                new DailyUsage(new DateOnly(2026, 3, 7), 2, 20, 200, 0.000002m),
                new DailyUsage(new DateOnly(2026, 3, 8), 0, 0, 0, 0m),
                new DailyUsage(new DateOnly(2026, 3, 9), 4, 40, 400, 0.300001m),
            ],
            report.ByDay);
        Assert.Equal(
            [new ProviderUsage("VendorA", 3, 30, 300, 0.300000m), new ProviderUsage("VendorB", 3, 30, 300, 0.000003m)],
            report.ByProvider);
        Assert.Equal([Dear, Cheap], report.ByAgent.Select(a => a.AgentId));
    }

    [Fact]
    public void An_empty_range_is_all_zeros()
    {
        var report = new UsageReportBuilder(Tenant, Range).Build();

        Assert.Equal(new UsageTotals(0, 0, 0, 0m), report.Totals);
        Assert.Equal(3, report.ByDay.Count);
        Assert.Empty(report.ByProvider);
        Assert.Empty(report.ByAgent);
    }

    [Fact]
    public void A_row_outside_the_range_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new UsageReportBuilder(Tenant, Range).Add(new DateOnly(2026, 3, 10), "VendorA", Cheap, 1, 1, 1, 0m));
    }
}
