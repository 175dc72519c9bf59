using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using StitchFin.Testing.Upstream;

namespace StitchFin.EndToEnd.Tests;

/// <summary>One agent spoken to by every route: each exchange is stored and charged once, and /usage is their exact sum.</summary>
[Collection(SystemCollection.Name)]
public sealed class AgentApisUsageTests(StitchFinSystem system)
{
    [Fact]
    public async Task Usage_is_the_sum_over_the_session_api_chat_completions_responses_and_messages_to_the_micro_dollar()
    {
        (int In, int Out)[] tokens = [(101, 7), (233, 19), (377, 41), (509, 73)];
        var agent = await UpstreamAgent.CreateAsync(system, [.. tokens.Select((t, i) => UpstreamStep.Reply($"Reply {i}.", new UpstreamUsage(t.In, t.Out)))]);
        var client = agent.Tenant.Client;

        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{agent.Session}/messages") { Content = JsonContent.Create(new { content = "One" }) })
        {
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            await AssertAnsweredAsync(await client.SendAsync(request), HttpStatusCode.Created, "Reply 0.");
        }

        await AssertAnsweredAsync(await client.PostAsJsonAsync("/v1/chat/completions",
            new { model = agent.Name, messages = new[] { new { role = "user", content = "Two" } } }), HttpStatusCode.OK, "Reply 1.");
        await AssertAnsweredAsync(await client.PostAsJsonAsync("/v1/responses", new { model = agent.Name, input = "Three" }), HttpStatusCode.OK, "Reply 2.");
        await AssertAnsweredAsync(await client.PostAsJsonAsync("/v1/messages",
            new { model = agent.Name, max_tokens = 100, messages = new[] { new { role = "user", content = "Four" } } }), HttpStatusCode.OK, "Reply 3.");

        var usage = await agent.Tenant.WaitForUsageAsync(4, TimeSpan.FromSeconds(10));
        var totals = usage["totals"]!;
        Assert.Equal(4, totals["messages"]!.GetValue<int>());
        Assert.Equal(tokens.Sum(t => t.In), totals["tokensIn"]!.GetValue<int>());
        Assert.Equal(tokens.Sum(t => t.Out), totals["tokensOut"]!.GetValue<int>());
        Assert.Equal(tokens.Sum(t => UpstreamAgent.Cost(t.In, t.Out)), totals["costUsd"]!.GetValue<decimal>());
        var byAgent = Assert.Single(usage["byAgent"]!.AsArray())!;
        Assert.Equal((agent.Id, 4), (byAgent["agentId"]!.GetValue<Guid>(), byAgent["messages"]!.GetValue<int>()));
        Assert.Equal(4, system.Upstream.RequestsFor(agent.Primary).Count);
    }

    private static async Task AssertAnsweredAsync(HttpResponseMessage response, HttpStatusCode status, string reply)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, body);
            Assert.Contains(reply, JsonNode.Parse(body)!.ToJsonString(), StringComparison.Ordinal);
        }
    }
}
