using System.Net;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Tests;

public sealed class UsageApiTests(MeteringFixture fixture) : IClassFixture<MeteringFixture>
{
    private MeteringFactory Factory => fixture.Factory;

    [Fact]
    public async Task Events_land_on_their_Chicago_day_across_midnight_and_both_daylight_saving_changes()
    {
        var tenant = Guid.NewGuid();
        var agent = Guid.NewGuid();
        (string At, string Day)[] cases =
        [
            ("2026-01-15T05:59:59Z", "2026-01-14"),
            ("2026-01-15T06:00:00Z", "2026-01-15"),
            ("2026-03-08T05:59:59Z", "2026-03-07"),
            ("2026-03-08T06:00:00Z", "2026-03-08"), // the 23-hour day starts
            ("2026-03-09T04:59:59Z", "2026-03-08"), // and ends an hour early in UTC
            ("2026-03-09T05:00:00Z", "2026-03-09"),
            ("2026-07-04T23:30:00-05:00", "2026-07-04"),
            ("2026-11-01T04:59:59Z", "2026-10-31"),
            ("2026-11-01T05:00:00Z", "2026-11-01"), // the 25-hour day starts
            ("2026-11-01T06:30:00Z", "2026-11-01"), // 01:30 CDT
            ("2026-11-01T07:30:00Z", "2026-11-01"), // 01:30 CST, the repeated hour
            ("2026-11-02T05:59:59Z", "2026-11-01"), // and ends an hour late in UTC
            ("2026-11-02T06:00:00Z", "2026-11-02"),
        ];
        foreach (var (at, _) in cases)
        {
            await Factory.Bus.Publish(Events.Completed(tenant, agent, DateTimeOffset.Parse(at)));
        }

        var report = await Factory.WaitForUsageAsync(tenant, "2026-01-14", "2026-11-03", r => r.Totals.Messages == cases.Length);

        Assert.Equal(cases.Length, report.Totals.Messages);
        var expected = cases.GroupBy(c => DateOnly.Parse(c.Day)).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(294, report.ByDay.Count);
        Assert.All(report.ByDay, day => Assert.Equal(expected.GetValueOrDefault(day.Date), day.Messages));
    }

    [Fact]
    public async Task Every_day_in_range_is_listed_with_zeros_and_costs_are_the_events_own()
    {
        var tenant = Guid.NewGuid();
        var agentA = Guid.NewGuid();
        var agentB = Guid.NewGuid();
        await Factory.Bus.Publish(Events.Completed(tenant, agentA, DateTimeOffset.Parse("2026-02-02T18:00:00Z"), ProviderNames.VendorB, 1000, 2000, 0.123456m));
        await Factory.Bus.Publish(Events.Completed(tenant, agentA, DateTimeOffset.Parse("2026-02-02T19:00:00Z"), ProviderNames.VendorA, 7, 9, 0.000001m));
        await Factory.Bus.Publish(Events.Completed(tenant, agentB, DateTimeOffset.Parse("2026-02-04T12:00:00Z"), ProviderNames.VendorA, 3, 5, 0.000039m));
        await Factory.WaitForUsageAsync(tenant, "2026-02-01", "2026-02-05", r => r.Totals.Messages == 3);

        using var response = await Factory.CreateClientFor(tenant).GetAsync("/usage?from=2026-02-01&to=2026-02-05");
        var json = (await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync())).RootElement;

        Assert.Equal(["tenantId", "from", "to", "timezone", "totals", "byDay", "byProvider", "byAgent"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(tenant, json.GetProperty("tenantId").GetGuid());
        Assert.Equal("2026-02-01", json.GetProperty("from").GetString());
        Assert.Equal("2026-02-05", json.GetProperty("to").GetString());
        Assert.Equal("America/Chicago", json.GetProperty("timezone").GetString());
        AssertAmounts(json.GetProperty("totals"), 3, 1010, 2014, 0.123496m);

        var days = json.GetProperty("byDay").EnumerateArray().ToList();
        Assert.Equal(["2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04", "2026-02-05"], days.Select(d => d.GetProperty("date").GetString()));
        AssertAmounts(days[0], 0, 0, 0, 0m);
        AssertAmounts(days[1], 2, 1007, 2009, 0.123457m);
        AssertAmounts(days[2], 0, 0, 0, 0m);
        AssertAmounts(days[3], 1, 3, 5, 0.000039m);
        AssertAmounts(days[4], 0, 0, 0, 0m);

        var providers = json.GetProperty("byProvider").EnumerateArray().ToList();
        Assert.Equal(["VendorA", "VendorB"], providers.Select(p => p.GetProperty("provider").GetString()));
        AssertAmounts(providers[0], 2, 10, 14, 0.000040m);
        AssertAmounts(providers[1], 1, 1000, 2000, 0.123456m);

        var agents = json.GetProperty("byAgent").EnumerateArray().ToDictionary(a => a.GetProperty("agentId").GetGuid());
        Assert.Equal(2, agents.Count);
        AssertAmounts(agents[agentA], 2, 1007, 2009, 0.123457m);
        AssertAmounts(agents[agentB], 1, 3, 5, 0.000039m);
    }

    [Fact]
    public async Task Another_tenant_sees_nothing_of_it()
    {
        var owner = Guid.NewGuid();
        await Factory.Bus.Publish(Events.Completed(owner, Guid.NewGuid(), DateTimeOffset.Parse("2026-05-05T15:00:00Z")));
        Assert.Equal(1, (await Factory.WaitForUsageAsync(owner, "2026-05-05", "2026-05-05", r => r.Totals.Messages == 1)).Totals.Messages);

        var stranger = Guid.NewGuid();
        var report = await Factory.GetUsageAsync(stranger, "2026-05-01", "2026-05-31");

        Assert.Equal(stranger, report.TenantId);
        Assert.Equal(new UsageTotals(0, 0, 0, 0m), report.Totals);
        Assert.Equal(31, report.ByDay.Count);
        Assert.All(report.ByDay, day => Assert.Equal(0, day.Messages));
        Assert.Empty(report.ByProvider);
        Assert.Empty(report.ByAgent);
    }

    [Fact]
    public async Task A_whole_leap_year_of_366_days_is_allowed()
    {
        var report = await Factory.GetUsageAsync(Guid.NewGuid(), "2024-01-01", "2024-12-31");

        Assert.Equal(366, report.ByDay.Count);
        Assert.Equal(new DateOnly(2024, 12, 31), report.ByDay[^1].Date);
    }

    [Theory]
    [InlineData("?from=2026-01-02&to=2026-01-01", "to")]
    [InlineData("?from=2025-01-01&to=2026-01-02", "to")]
    [InlineData("?from=2026-13-01&to=2026-12-31", "from")]
    [InlineData("?from=2026-01-01&to=2026-02-30", "to")]
    [InlineData("?from=2026-1-1&to=2026-01-02", "from")]
    [InlineData("?from=01/01/2026&to=2026-01-02", "from")]
    [InlineData("?to=2026-01-02", "from")]
    [InlineData("?from=2026-01-01", "to")]
    [InlineData("?from=&to=", "from")]
    [InlineData("", "to")]
    public async Task Bad_ranges_are_400_problems_naming_the_field(string query, string field)
    {
        using var response = await Factory.CreateClientFor(Guid.NewGuid()).GetAsync("/usage" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = (await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync())).RootElement;
        Assert.Equal(400, json.GetProperty("status").GetInt32());
        Assert.True(json.GetProperty("errors").TryGetProperty(field, out var messages), json.ToString());
        Assert.NotEmpty(messages.EnumerateArray());
    }

    private static void AssertAmounts(JsonElement element, long messages, long tokensIn, long tokensOut, decimal costUsd)
    {
        Assert.Equal(messages, element.GetProperty("messages").GetInt64());
        Assert.Equal(tokensIn, element.GetProperty("tokensIn").GetInt64());
        Assert.Equal(tokensOut, element.GetProperty("tokensOut").GetInt64());
        Assert.Equal(costUsd, element.GetProperty("costUsd").GetDecimal());
    }
}
