using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Tests;

public sealed class UsageReportBuilderTests
{
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly Guid Cheap = new("00000000-0000-0000-0000-000000000001");
    private static readonly Guid Dear = new("00000000-0000-0000-0000-000000000002");
    private static readonly UsageRange Range = new(new DateOnly(2026, 3, 7), new DateOnly(2026, 3, 9));

    [Fact]
    public void Lists_every_day_and_sums_provider_and_agent_rows()
    {
        var builder = new UsageReportBuilder(Tenant, Range);
        builder.AddDay(new DateOnly(2026, 3, 7), 2, 20, 200, 0.000002m);
        builder.AddDay(new DateOnly(2026, 3, 9), 4, 40, 400, 0.300001m);
        builder.AddProviderAgent("VendorB", Cheap, 3, 30, 300, 0.000003m);
        builder.AddProviderAgent("VendorA", Dear, 2, 20, 200, 0.200000m);
        builder.AddProviderAgent("VendorA", Cheap, 1, 10, 100, 0.100000m);

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
        Assert.Equal(
            [new AgentUsage(Dear, 2, 20, 200, 0.200000m), new AgentUsage(Cheap, 4, 40, 400, 0.100003m)],
            report.ByAgent);
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
    public void A_day_outside_the_range_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new UsageReportBuilder(Tenant, Range).AddDay(new DateOnly(2026, 3, 10), 1, 1, 1, 0m));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UsageReportBuilder(Tenant, Range).AddDay(new DateOnly(2026, 3, 6), 1, 1, 1, 0m));
    }
}
