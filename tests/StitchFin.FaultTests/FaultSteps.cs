using System.Diagnostics;
using System.Net;

namespace StitchFin.FaultTests;

/// <summary>What every fault test does before and after its fault: a tenant to load, and the exact-usage check.</summary>
public static class FaultSteps
{
    /// <summary>A tenant with one agent and <paramref name="sessionCount"/> sessions of it.</summary>
    public static async Task<(Tenant Tenant, IReadOnlyList<Guid> Sessions)> PrepareAsync(StitchFinSystem system, int sessionCount)
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var sessions = new List<Guid>();
        for (var i = 0; i < sessionCount; i++)
        {
            sessions.Add((await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>());
        }

        return (tenant, sessions);
    }

    /// <summary>
    /// Every message the clients were answered 201 for is in the tenant's usage exactly once, with the tokens and cost
    /// of those answers; what is missing or counted twice goes to the ledger.
    /// </summary>
    public static async Task AssertExactUsageAsync(FaultLedger ledger, Tenant tenant, MessageLoad load, int expectedMessages, TimeSpan wait)
    {
        ledger.Requests(load.Requests);
        Assert.Empty(load.Failures);
        var (messages, tokensIn, tokensOut, cost) = load.Sum();
        Assert.Equal(expectedMessages, messages);
        // After a fault the edge may still hold metering out of its routes until its next health probe.
        await WaitUntilAsync(async () => await UsageAnswersAsync(tenant), wait, "the edge routes /usage again");
        var usage = await tenant.WaitForUsageAsync(expectedMessages, wait);
        var counted = usage["totals"]!["messages"]!.GetValue<int>();
        ledger.Lost(Math.Max(0, expectedMessages - counted));
        ledger.DoubleCounted(Math.Max(0, counted - expectedMessages));
        Assert.Equal(expectedMessages, counted);
        Assert.Equal(tokensIn, usage["totals"]!["tokensIn"]!.GetValue<long>());
        Assert.Equal(tokensOut, usage["totals"]!["tokensOut"]!.GetValue<long>());
        Assert.Equal(cost, usage["totals"]!["costUsd"]!.GetValue<decimal>());
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> when it has not within <paramref name="timeout"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"waited {timeout} for this, in vain: {what}");
            await Task.Delay(50);
        }
    }

    private static async Task<bool> UsageAnswersAsync(Tenant tenant)
    {
        var today = DateTime.UtcNow.Date;
        using var response = await tenant.Client.GetAsync($"/usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}");
        return response.StatusCode == HttpStatusCode.OK;
    }
}
