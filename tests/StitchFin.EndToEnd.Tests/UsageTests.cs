using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class UsageTests(StitchFinSystem system)
{
    private static readonly TimeZoneInfo Chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");

    [Fact]
    public async Task Usage_totals_equal_the_sum_of_the_message_responses_within_two_seconds()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agentA = (await tenant.CreateAgentAsync("VendorA", "VendorB", "A"))["id"]!.GetValue<Guid>();
        var agentB = (await tenant.CreateAgentAsync("VendorB", null, "B"))["id"]!.GetValue<Guid>();
        var sessions = new[] { (await tenant.CreateSessionAsync(agentA))["id"]!.GetValue<Guid>(), (await tenant.CreateSessionAsync(agentB))["id"]!.GetValue<Guid>() };

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => tenant.SendMessageAsync(sessions[i % 2], $"Message number {i} about usage")));
        var expectedIn = responses.Sum(r => r["usage"]!["tokensIn"]!.GetValue<int>());
        var expectedOut = responses.Sum(r => r["usage"]!["tokensOut"]!.GetValue<int>());
        var expectedCost = responses.Sum(r => r["usage"]!["costUsd"]!.GetValue<decimal>());
        Assert.All(responses, r => Assert.Equal(r["usage"]!["costUsd"]!.GetValue<decimal>(), r["assistantMessage"]!["costUsd"]!.GetValue<decimal>()));

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Chicago).DateTime);
        var path = $"/usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var clock = Stopwatch.StartNew();
        JsonNode usage;
        do
        {
            usage = await tenant.ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
            if (usage["totals"]!["messages"]!.GetValue<int>() >= 20)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(2));

        var totals = usage["totals"]!;
        Assert.Equal(20, totals["messages"]!.GetValue<int>());
        Assert.Equal(expectedIn, totals["tokensIn"]!.GetValue<int>());
        Assert.Equal(expectedOut, totals["tokensOut"]!.GetValue<int>());
        Assert.Equal(expectedCost, totals["costUsd"]!.GetValue<decimal>());
        Assert.Equal("America/Chicago", usage["timezone"]!.GetValue<string>());
        Assert.Equal(3, usage["byDay"]!.AsArray().Count);
        Assert.Equal(20, usage["byDay"]!.AsArray().Sum(d => d!["messages"]!.GetValue<int>()));
        Assert.Equal(20, usage["byAgent"]!.AsArray().Sum(a => a!["messages"]!.GetValue<int>()));
        Assert.Equal(expectedCost, usage["byProvider"]!.AsArray().Sum(p => p!["costUsd"]!.GetValue<decimal>()));
    }

    [Theory]
    [InlineData("/usage?from=2026-02-10&to=2026-02-01")]
    [InlineData("/usage?from=2026-13-01&to=2026-12-01")]
    [InlineData("/usage?from=2025-01-01&to=2026-12-31")]
    [InlineData("/usage?from=yesterday&to=today")]
    [InlineData("/usage")]
    public async Task Bad_ranges_are_400(string path)
    {
        var tenant = await Tenant.CreateAsync(system);
        using var response = await tenant.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
