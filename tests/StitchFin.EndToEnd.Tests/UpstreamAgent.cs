using System.Diagnostics;
using System.Net;
using StitchFin.Testing.Upstream;

namespace StitchFin.EndToEnd.Tests;

/// <summary>
/// An agent of a new tenant whose primary (and optional fallback) are models of the system's fault-injecting upstream,
/// each model named uniquely so its script and its recorded requests belong to one test.
/// </summary>
public sealed record UpstreamAgent(Tenant Tenant, string Name, Guid Id, Guid Session, string Primary, string? Fallback)
{
    public const string Provider = StitchFinSystem.UpstreamProvider;
    public const decimal InputPrice = 0.0010m;
    public const decimal OutputPrice = 0.0020m;
    public const string SystemPrompt = "You are helpful.";

    /// <param name="provider">The provider entry both models are on: <see cref="Provider"/> (chat completions) or one of the native kinds'.</param>
    public static async Task<UpstreamAgent> CreateAsync(StitchFinSystem system, UpstreamStep[] primary, UpstreamStep[]? fallback = null, string provider = Provider)
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var primaryModel = $"primary-{tag}";
        var fallbackModel = fallback is null ? null : $"fallback-{tag}";
        system.Upstream.Script(primaryModel, primary);
        if (fallback is not null)
        {
            system.Upstream.Script(fallbackModel!, fallback);
        }

        var tenant = await Tenant.CreateAsync(system);
        var agent = await tenant.ExpectAsync(HttpMethod.Post, "/agents", HttpStatusCode.Created, new
        {
            name = $"agent-{tag}",
            primaryProvider = provider,
            primaryModel,
            fallbackProvider = fallback is null ? null : provider,
            fallbackModel,
            systemPrompt = SystemPrompt,
        });
        var id = agent["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(id))["id"]!.GetValue<Guid>();
        return new UpstreamAgent(tenant, agent["name"]!.GetValue<string>(), id, session, primaryModel, fallbackModel);
    }

    public static decimal Cost(int tokensIn, int tokensOut) =>
        Math.Round(tokensIn / 1000m * InputPrice + tokensOut / 1000m * OutputPrice, 6, MidpointRounding.AwayFromZero);

    /// <summary>
    /// Asserts a failed exchange stored and charged nothing: the agent's session (the session API's) holds no message,
    /// the sessions an agent API opened for it are gone, and metering, given a moment to show a late charge, counts none.
    /// </summary>
    public async Task AssertNothingStoredOrChargedAsync()
    {
        // An agent API's client sees the error before the service removes the request's empty session, so that is
        // awaited; nothing is ever stored in it meanwhile.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var sessions = (await Tenant.ExpectAsync(HttpMethod.Get, $"/sessions?agentId={Id}", HttpStatusCode.OK)).AsArray();
            Assert.All(sessions, s => Assert.Equal(0, s!["messageCount"]!.GetValue<int>()));
            var others = sessions.Where(s => s!["id"]!.GetValue<Guid>() != Session).ToList();
            if (others.Count == 0)
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"sessions left behind: {string.Join(", ", others)}");
            await Task.Delay(100);
        }

        var usage = await Tenant.WaitForUsageAsync(0, TimeSpan.Zero);
        Assert.Equal(0, usage["totals"]!["messages"]!.GetValue<int>());
        Assert.Equal(0m, usage["totals"]!["costUsd"]!.GetValue<decimal>());
    }
}
