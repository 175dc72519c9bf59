using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using StitchFin.Metering.Data;
using StitchFin.Metering.Usage;
using StitchFin.ServiceDefaults.Data;
using StitchFin.Testing;

namespace StitchFin.Metering.Tests;

public sealed class UsageDaysMigrationTests
{
    [Fact]
    public async Task Days_counted_before_the_day_rollups_existed_are_backfilled_from_the_detailed_rollups()
    {
        await using var infrastructure = await TestInfrastructure.StartAsync("meteringmigration");
        var options = new DbContextOptionsBuilder<MeteringDbContext>();
        DatabaseExtensions.Configure(options, infrastructure.PostgresConnectionString);
        await using var db = new MeteringDbContext(options.Options);
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync("20261128002316_InitialUsage");

        var tenant = Guid.NewGuid();
        var other = Guid.NewGuid();
        var (agentA, agentB) = (Guid.NewGuid(), Guid.NewGuid());
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO usage_rollups (tenant_id, day, provider, agent_id, messages, tokens_in, tokens_out, cost_usd) VALUES
                ({tenant}, DATE '2026-03-08', 'VendorA', {agentA}, 2, 20, 200, 0.100001),
                ({tenant}, DATE '2026-03-08', 'VendorB', {agentA}, 1, 10, 100, 0.000002),
                ({tenant}, DATE '2026-03-08', 'VendorA', {agentB}, 4, 40, 400, 0.300000),
                ({tenant}, DATE '2026-03-10', 'VendorB', {agentB}, 1, 5, 50, 0.000005),
                ({other}, DATE '2026-03-08', 'VendorA', {agentA}, 9, 90, 900, 0.900000)
            """);

        await migrator.MigrateAsync();
        var report = await UsageReportQuery.LoadAsync(db, tenant, new UsageRange(new DateOnly(2026, 3, 8), new DateOnly(2026, 3, 10)), CancellationToken.None);

        Assert.Equal(
            [
                new DailyUsage(new DateOnly(2026, 3, 8), 7, 70, 700, 0.400003m),
                new DailyUsage(new DateOnly(2026, 3, 9), 0, 0, 0, 0m),
                new DailyUsage(new DateOnly(2026, 3, 10), 1, 5, 50, 0.000005m),
            ],
            report.ByDay);
        Assert.Equal(new UsageTotals(8, 75, 750, 0.400008m), report.Totals);
        Assert.Equal([new ProviderUsage("VendorA", 6, 60, 600, 0.400001m), new ProviderUsage("VendorB", 2, 15, 150, 0.000007m)], report.ByProvider);
    }
}
