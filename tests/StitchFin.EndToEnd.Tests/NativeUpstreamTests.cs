// The SDK marks its whole Responses client as evaluation-only (OPENAI001); it is what Codex-style clients speak.
#pragma warning disable OPENAI001
using System.ClientModel;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Core;
using Anthropic.Models.Messages;
using OpenAI.Responses;
using StitchFin.Testing.Upstream;

namespace StitchFin.EndToEnd.Tests;

/// <summary>
/// Agents whose provider speaks an agent API natively, through the edge: Claude Code's API (<c>/v1/messages</c>) on a
/// provider of kind <c>anthropic</c>, Codex's (<c>/v1/responses</c>) on one of kind <c>openai-responses</c>, whole and
/// streamed, with the official SDKs. The upstream must be asked in its own API, and /usage must count what it reported.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class NativeUpstreamTests(StitchFinSystem system)
{
    [Fact]
    public async Task An_anthropic_provider_is_asked_in_the_messages_api_and_its_reported_tokens_are_what_usage_counts()
    {
        var agent = await UpstreamAgent.CreateAsync(system,
            [UpstreamStep.Reply("Mars has two moons.", new UpstreamUsage(40, 9, CachedTokens: 16), reportedModel: "claude-test-2026-01-01"),
             UpstreamStep.Reply("Phobos and Deimos orbit Mars", new UpstreamUsage(50, 7), reportedModel: "claude-test-2026-01-01")],
            provider: StitchFinSystem.UpstreamAnthropicProvider);
        using var client = new AnthropicClient(new ClientOptions
        {
            ApiKey = agent.Tenant.ApiKey,
            BaseUrl = system.EdgeUrl.ToString().TrimEnd('/'),
            MaxRetries = 0,
            ResponseValidation = true,
        });

        var whole = await client.Messages.Create(new MessageCreateParams
        {
            Model = agent.Name, MaxTokens = 300, System = "Be exact.", Messages = [new UserMessageParam("How many moons has Mars?")],
        });
        var aggregator = new Anthropic.Helpers.MessageContentAggregator();
        var deltas = new List<string>();
        await foreach (var update in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = agent.Name, MaxTokens = 200, Messages = [new UserMessageParam("Name them")],
        }).CollectAsync(aggregator))
        {
            if (update.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var text))
            {
                deltas.Add(text.Text);
            }
        }

        var streamed = aggregator.Message();

        Assert.Equal(("claude-test-2026-01-01", "Mars has two moons."), (whole.Model.Raw(), ((TextBlock)Assert.Single(whole.Content).Value!).Text));
        // The upstream's cache reads come back as cache reads, its input tokens as input tokens.
        Assert.Equal((24L, 16L, 9L), (whole.Usage.InputTokens, whole.Usage.CacheReadInputTokens, whole.Usage.OutputTokens));
        Assert.Equal(["Phobos ", "and ", "Deimos ", "orbit ", "Mars"], deltas);
        Assert.Equal(StopReason.EndTurn, streamed.StopReason!.Value());
        Assert.Equal((50L, 7L), (streamed.Usage.InputTokens, streamed.Usage.OutputTokens));

        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        Assert.All(requests, request =>
        {
            Assert.Equal(("POST", "/v1/messages", UpstreamApi.AnthropicMessages), (request.Method, request.Path, request.Api));
            Assert.Equal(StitchFinSystem.UpstreamApiKey, request.Headers["x-api-key"]);
            Assert.Equal("2023-06-01", request.Headers["anthropic-version"]);
            Assert.Equal("stitchfin-e2e", request.Headers["X-Upstream-Tenant"]);
            Assert.False(request.Headers.ContainsKey("Authorization"));
            Assert.True(request.Stream);
        });
        // One system prompt at the top (the agent's, then the client's), the turns as content blocks, the client's limit.
        Assert.Equal($"{UpstreamAgent.SystemPrompt}\n\nBe exact.", requests[0].System);
        var first = JsonNode.Parse(requests[0].Body)!;
        Assert.Equal(300, first["max_tokens"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""[{"role":"user","content":[{"type":"text","text":"How many moons has Mars?"}]}]"""), first["messages"]), first.ToJsonString());
        Assert.Null(first["choices"]);
        Assert.Equal(UpstreamAgent.SystemPrompt, requests[1].System);
        Assert.Equal(200, JsonNode.Parse(requests[1].Body)!["max_tokens"]!.GetValue<int>());

        var usage = await agent.Tenant.WaitForUsageAsync(2, TimeSpan.FromSeconds(10));
        var totals = usage["totals"]!;
        Assert.Equal((2, 90, 16), (totals["messages"]!.GetValue<int>(), totals["tokensIn"]!.GetValue<int>(), totals["tokensOut"]!.GetValue<int>()));
        Assert.Equal(UpstreamAgent.Cost(40, 9) + UpstreamAgent.Cost(50, 7), totals["costUsd"]!.GetValue<decimal>());
        Assert.Equal(StitchFinSystem.UpstreamAnthropicProvider, Assert.Single(usage["byProvider"]!.AsArray())!["provider"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_openai_responses_provider_is_asked_in_the_responses_api_and_its_reported_tokens_are_what_usage_counts()
    {
        var agent = await UpstreamAgent.CreateAsync(system,
            [UpstreamStep.Reply("Mars has two moons.", new UpstreamUsage(17, 6, CachedTokens: 10), reportedModel: "gpt-test-2026-01-01"),
             UpstreamStep.Reply("Phobos and Deimos.", new UpstreamUsage(30, 5), reportedModel: "gpt-test-2026-01-01")],
            provider: StitchFinSystem.UpstreamResponsesProvider);
        var client = new ResponsesClient(new ApiKeyCredential(agent.Tenant.ApiKey), new ResponsesClientOptions { Endpoint = new Uri(system.EdgeUrl, "/v1") });

        ResponseResult whole = await client.CreateResponseAsync(new CreateResponseOptions(agent.Name, [ResponseItem.CreateUserMessageItem("How many moons has Mars?")])
        {
            Instructions = "Be exact.",
            MaxOutputTokenCount = 100,
        });
        var deltas = new List<string>();
        ResponseResult? streamed = null;
        var updates = await client.CreateResponseStreamingAsync(
            new CreateResponseOptions(agent.Name, [ResponseItem.CreateUserMessageItem("Name them.")]) { PreviousResponseId = whole.Id, StreamingEnabled = true });
        await foreach (var update in updates)
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    deltas.Add(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate done:
                    streamed = done.Response;
                    break;
            }
        }

        Assert.Equal(("Mars has two moons.", ResponseStatus.Completed, "gpt-test-2026-01-01"), (whole.GetOutputText(), whole.Status, whole.Model));
        Assert.Equal((17, 10, 6), (whole.Usage.InputTokenCount, whole.Usage.InputTokenDetails.CachedTokenCount, whole.Usage.OutputTokenCount));
        Assert.Equal(["Phobos ", "and ", "Deimos."], deltas);
        Assert.NotNull(streamed);
        Assert.Equal(("Phobos and Deimos.", 30, 5), (streamed.GetOutputText(), streamed.Usage.InputTokenCount, streamed.Usage.OutputTokenCount));

        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        Assert.All(requests, request =>
        {
            Assert.Equal(("POST", "/v1/responses", UpstreamApi.Responses), (request.Method, request.Path, request.Api));
            Assert.Equal($"Bearer {StitchFinSystem.UpstreamApiKey}", request.Headers["Authorization"]);
            Assert.Equal("stitchfin-e2e", request.Headers["X-Upstream-Tenant"]);
            Assert.True(request.Stream);
            // The agent's prompt is the instructions; the gateway keeps the conversation, the upstream stores nothing.
            Assert.Equal(UpstreamAgent.SystemPrompt, request.System);
            var body = JsonNode.Parse(request.Body)!;
            Assert.False(body["store"]!.GetValue<bool>());
            Assert.Null(body["previous_response_id"]);
            Assert.Null(body["messages"]);
        });
        Assert.Equal([new UpstreamMessage("system", "Be exact."), new UpstreamMessage("user", "How many moons has Mars?")], requests[0].Messages);
        Assert.Equal(100, JsonNode.Parse(requests[0].Body)!["max_output_tokens"]!.GetValue<int>());
        Assert.Equal("input_text", JsonNode.Parse(requests[0].Body)!["input"]![1]!["content"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(
            [new UpstreamMessage("user", "How many moons has Mars?"), new UpstreamMessage("assistant", "Mars has two moons."), new UpstreamMessage("user", "Name them.")],
            requests[1].Messages);

        var usage = await agent.Tenant.WaitForUsageAsync(2, TimeSpan.FromSeconds(10));
        var totals = usage["totals"]!;
        Assert.Equal((2, 47, 11), (totals["messages"]!.GetValue<int>(), totals["tokensIn"]!.GetValue<int>(), totals["tokensOut"]!.GetValue<int>()));
        Assert.Equal(UpstreamAgent.Cost(17, 6) + UpstreamAgent.Cost(30, 5), totals["costUsd"]!.GetValue<decimal>());
        Assert.Equal(StitchFinSystem.UpstreamResponsesProvider, Assert.Single(usage["byProvider"]!.AsArray())!["provider"]!.GetValue<string>());
    }
}
