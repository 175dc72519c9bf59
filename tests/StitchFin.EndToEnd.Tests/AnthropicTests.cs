using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using StitchFin.Testing.Upstream;

namespace StitchFin.EndToEnd.Tests;

/// <summary>
/// The official Anthropic .NET SDK against the edge's Messages API, with a tenant key as its API key and an agent as its
/// model: on a simulated vendor, and on the fault-injecting upstream, where each fault is checked for what the SDK sees,
/// what the upstream saw, and what was stored and charged.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class AnthropicTests(StitchFinSystem system)
{

    [Fact]
    public async Task A_message_and_a_streamed_message_on_a_simulated_vendor_answer_and_are_metered()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agentId = (await tenant.CreateAgentAsync("VendorB", null, "claude-helper"))["id"]!.GetValue<Guid>();
        using var client = Client(tenant.ApiKey);

        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "claude-helper",
            MaxTokens = 256,
            System = "Answer briefly.",
            Messages = [new UserMessageParam("What is the capital of France?")],
        });

        Assert.StartsWith("msg_", message.ID, StringComparison.Ordinal);
        Assert.Equal("vendor-b", message.Model.Raw());
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        var text = Assert.Single(message.Content).Value as TextBlock;
        Assert.NotNull(text);
        Assert.StartsWith("[VendorB] ", text.Text, StringComparison.Ordinal);
        Assert.True(message.Usage.InputTokens > 0);
        Assert.InRange(message.Usage.OutputTokens, 30, 120);

        var streamed = new StringBuilder();
        var types = new List<string>();
        await foreach (var update in client.Messages.CreateStreaming(new MessageCreateParams
        {
            Model = agentId.ToString(),
            MaxTokens = 256,
            Messages = [new UserMessageParam("Tell me about streaming responses over HTTP")],
        }))
        {
            types.Add(update.Type.Raw());
            if (update.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                streamed.Append(textDelta.Text);
            }
        }

        Assert.Equal("message_start", types[0]);
        Assert.Equal(["message_delta", "message_stop"], types[^2..]);
        Assert.True(types.Count(t => t == "content_block_delta") > 3, string.Join(", ", types));
        Assert.Equal("[VendorB] Tell me about streaming responses over HTTP ...", streamed.ToString());

        var usage = await tenant.WaitForUsageAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal(2, usage["totals"]!["messages"]!.GetValue<int>());
        var byAgent = Assert.Single(usage["byAgent"]!.AsArray())!;
        Assert.Equal((agentId, 2), (byAgent["agentId"]!.GetValue<Guid>(), byAgent["messages"]!.GetValue<int>()));
    }

    [Fact]
    public async Task An_upstream_agent_answers_whole_and_streamed_with_its_model_and_usage()
    {
        var agent = await AgentAsync(
            [UpstreamStep.Reply("Mars has two moons.", new UpstreamUsage(17, 6, CachedTokens: 12), reportedModel: "gpt-test-2026-01-01"),
             UpstreamStep.Reply("Phobos and Deimos orbit Mars", new UpstreamUsage(20, 7), reportedModel: "gpt-test-2026-01-01")]);
        using var client = Client(agent.Tenant.ApiKey);

        var whole = await client.Messages.Create(Params(agent.Name, "How many moons has Mars?", system: "Be exact."));
        var aggregator = new Anthropic.Helpers.MessageContentAggregator();
        var deltas = new List<string>();
        await foreach (var update in client.Messages.CreateStreaming(Params(agent.Name, "Name them")).CollectAsync(aggregator))
        {
            if (update.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var text))
            {
                deltas.Add(text.Text);
            }
        }

        var streamed = aggregator.Message();

        Assert.Equal("gpt-test-2026-01-01", whole.Model.Raw());
        Assert.Equal("Mars has two moons.", ((TextBlock)Assert.Single(whole.Content).Value!).Text);
        // Anthropic counts cache reads apart from input tokens; the upstream counted them within its prompt tokens.
        Assert.Equal((5L, 12L, 6L), (whole.Usage.InputTokens, whole.Usage.CacheReadInputTokens, whole.Usage.OutputTokens));
        Assert.Equal(["Phobos ", "and ", "Deimos ", "orbit ", "Mars"], deltas);
        Assert.Equal("Phobos and Deimos orbit Mars", ((TextBlock)Assert.Single(streamed.Content).Value!).Text);
        Assert.Equal("gpt-test-2026-01-01", streamed.Model.Raw());
        Assert.Equal(StopReason.EndTurn, streamed.StopReason!.Value());
        Assert.Equal((20L, 7L), (streamed.Usage.InputTokens, streamed.Usage.OutputTokens));

        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        Assert.Equal([new UpstreamMessage("system", UpstreamAgent.SystemPrompt), new UpstreamMessage("system", "Be exact."), new UpstreamMessage("user", "How many moons has Mars?")],
            requests[0].Messages);
        Assert.Equal(256, JsonNode.Parse(requests[0].Body)!["max_tokens"]!.GetValue<int>());
        var usage = await agent.Tenant.WaitForUsageAsync(2, TimeSpan.FromSeconds(10));
        Assert.Equal((37, 13), (usage["totals"]!["tokensIn"]!.GetValue<int>(), usage["totals"]!["tokensOut"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_tool_use_round_trip_reaches_the_upstream_as_tool_calls_and_a_tool_message()
    {
        var call = new UpstreamToolCall("call_1", "get_weather", """{"city":"Paris"}""");
        var agent = await AgentAsync([UpstreamStep.ToolCalls([call]), UpstreamStep.ToolCalls([call]), UpstreamStep.Reply("It is 18 C and sunny in Paris.")]);
        using var client = Client(agent.Tenant.ApiKey);
        ToolUnion weather = new Tool
        {
            Name = "get_weather",
            Description = "The current weather in a city.",
            InputSchema = new InputSchema
            {
                Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
                Required = ["city"],
            },
        };
        MessageParam question = new UserMessageParam("What is the weather in Paris?");

        var whole = await client.Messages.Create(Params(agent.Name, question, [weather]));
        var aggregator = new Anthropic.Helpers.MessageContentAggregator();
        await foreach (var _ in client.Messages.CreateStreaming(Params(agent.Name, question, [weather])).CollectAsync(aggregator))
        {
        }

        foreach (var asked in new[] { whole, aggregator.Message() })
        {
            Assert.Equal(StopReason.ToolUse, asked.StopReason!.Value());
            var toolUse = Assert.IsType<ToolUseBlock>(Assert.Single(asked.Content).Value);
            Assert.Equal(("call_1", "get_weather"), (toolUse.ID, toolUse.Name));
            Assert.Equal("Paris", toolUse.Input["city"].GetString());
        }

        var answer = await client.Messages.Create(Params(agent.Name, new List<MessageParam>
        {
            question,
            new AssistantMessageParam(new List<ContentBlockParam>
            {
                new ToolUseBlockParam { ID = "call_1", Name = "get_weather", Input = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement("Paris") } },
            }),
            new UserMessageParam(new List<ContentBlockParam> { new ToolResultBlockParam("call_1") { Content = "18 C, sunny" } }),
        }, [weather]));

        Assert.Equal(StopReason.EndTurn, answer.StopReason!.Value());
        Assert.Equal("It is 18 C and sunny in Paris.", ((TextBlock)Assert.Single(answer.Content).Value!).Text);
        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(3, requests.Count);
        var tools = JsonNode.Parse(requests[0].Body)!["tools"]!.AsArray();
        Assert.Equal("get_weather", Assert.Single(tools)!["function"]!["name"]!.GetValue<string>());
        Assert.Equal(["system", "user", "assistant", "tool"], requests[2].Messages.Select(m => m.Role));
        Assert.Equal("18 C, sunny", requests[2].Messages[^1].Content);
        var sent = JsonNode.Parse(requests[2].Body)!["messages"]!.AsArray();
        Assert.Equal("call_1", sent[^1]!["tool_call_id"]!.GetValue<string>());
        var sentCall = Assert.Single(sent[^2]!["tool_calls"]!.AsArray())!;
        Assert.Equal(("call_1", "get_weather"), (sentCall["id"]!.GetValue<string>(), sentCall["function"]!["name"]!.GetValue<string>()));
        Assert.Equal("Paris", JsonNode.Parse(sentCall["function"]!["arguments"]!.GetValue<string>())!["city"]!.GetValue<string>());
        Assert.Equal(3, (await agent.Tenant.WaitForUsageAsync(3, TimeSpan.FromSeconds(10)))["totals"]!["messages"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_stream_cut_midway_is_an_error_for_the_sdk_and_is_neither_stored_nor_charged()
    {
        var agent = await AgentAsync([UpstreamStep.CutAfter(2, "This will not be finished today")], [UpstreamStep.Reply("never used")]);
        using var client = Client(agent.Tenant.ApiKey);

        var (types, text, error) = await StreamAsync(client, Params(agent.Name, "Start something"));

        Assert.NotNull(error);
        Assert.Contains("api_error", error.Message, StringComparison.Ordinal);
        Assert.Equal("This will ", text);
        Assert.DoesNotContain("message_stop", types);
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.Empty(system.Upstream.RequestsFor(agent.Fallback!));
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task A_stream_that_stalls_midway_is_an_error_after_the_idle_limit()
    {
        var agent = await AgentAsync([UpstreamStep.StallAfter(2, "Waiting for the rest of this")]);
        using var client = Client(agent.Tenant.ApiKey);

        var clock = Stopwatch.StartNew();
        var (types, text, error) = await StreamAsync(client, Params(agent.Name, "Go"));

        Assert.NotNull(error);
        Assert.Equal("Waiting for ", text);
        Assert.DoesNotContain("message_stop", types);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.9), $"failed after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retried_after_the_wait_and_then_answers()
    {
        var agent = await AgentAsync([UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(1)), UpstreamStep.Reply("After the wait.")]);
        using var client = Client(agent.Tenant.ApiKey);

        var message = await client.Messages.Create(Params(agent.Name, "Please"));

        Assert.Equal("After the wait.", ((TextBlock)Assert.Single(message.Content).Value!).Text);
        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        var gap = Stopwatch.GetElapsedTime(requests[0].ReceivedAt, requests[1].ReceivedAt);
        Assert.True(gap >= TimeSpan.FromSeconds(1), $"retried after {gap.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Context_length_exceeded_fails_over_to_the_fallback_model()
    {
        var agent = await AgentAsync([UpstreamStep.ContextLengthExceeded()], [UpstreamStep.Reply("I have a bigger window.")]);
        using var client = Client(agent.Tenant.ApiKey);

        var message = await client.Messages.Create(Params(agent.Name, "A very long conversation"));

        Assert.Equal("I have a bigger window.", ((TextBlock)Assert.Single(message.Content).Value!).Text);
        Assert.Equal(agent.Fallback, message.Model.Raw());
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.Single(system.Upstream.RequestsFor(agent.Fallback!));
    }

    [Fact]
    public async Task A_content_policy_refusal_is_a_400_invalid_request_error_without_retry_failover_or_charge()
    {
        var agent = await AgentAsync([UpstreamStep.ContentPolicyViolation()], [UpstreamStep.Reply("never used")]);
        using var client = Client(agent.Tenant.ApiKey);

        var whole = await Assert.ThrowsAsync<AnthropicBadRequestException>(() => client.Messages.Create(Params(agent.Name, "Something unsafe")));
        var streamed = await Assert.ThrowsAsync<AnthropicBadRequestException>(async () =>
        {
            await foreach (var _ in client.Messages.CreateStreaming(Params(agent.Name, "Something unsafe")))
            {
            }
        });

        foreach (var error in new[] { whole, streamed })
        {
            Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
            Assert.Equal("invalid_request_error", error.Type?.Raw());
            var body = JsonNode.Parse(error.ResponseBody)!;
            Assert.Equal("error", body["type"]!.GetValue<string>());
            Assert.Contains("safety system", body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("content_policy_violation", body["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        Assert.Equal(2, system.Upstream.RequestsFor(agent.Primary).Count);
        Assert.Empty(system.Upstream.RequestsFor(agent.Fallback!));
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task A_bad_key_is_401_and_an_unknown_model_is_404_for_the_sdk()
    {
        var tenant = await Tenant.CreateAsync(system);
        await tenant.CreateAgentAsync(name: "known");

        using var stranger = Client("sfk_not_a_real_key_" + Guid.NewGuid().ToString("N"));
        var unauthorized = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => stranger.Messages.Create(Params("known", "hi")));
        using var client = Client(tenant.ApiKey);
        var notFound = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => client.Messages.Create(Params("unknown-model", "hi")));

        Assert.Equal("authentication_error", unauthorized.Type?.Raw());
        Assert.Equal("not_found_error", notFound.Type?.Raw());
        Assert.Contains("unknown-model", notFound.ResponseBody, StringComparison.Ordinal);
    }

    private AnthropicClient Client(string apiKey) =>
        // No retries by the SDK: what the upstream sees is then the gateway's doing alone. Response validation: every answer
        // must hold all that the SDK's models require.
        new(new ClientOptions
        {
            ApiKey = apiKey,
            BaseUrl = system.EdgeUrl.ToString().TrimEnd('/'),
            MaxRetries = 0,
            Timeout = TimeSpan.FromSeconds(60),
            ResponseValidation = true,
        });

    private static MessageCreateParams Params(string model, string content, string? system = null) =>
        system is null
            ? new() { Model = model, MaxTokens = 256, Messages = [new UserMessageParam(content)] }
            : new() { Model = model, MaxTokens = 256, System = system, Messages = [new UserMessageParam(content)] };

    private static MessageCreateParams Params(string model, MessageParam message, IReadOnlyList<ToolUnion> tools) =>
        Params(model, [message], tools);

    private static MessageCreateParams Params(string model, IReadOnlyList<MessageParam> messages, IReadOnlyList<ToolUnion> tools) =>
        new() { Model = model, MaxTokens = 256, Messages = messages, Tools = tools };

    /// <summary>Reads a stream to its end: the event types, the text, and the exception that ended it, if any.</summary>
    private static async Task<(List<string> Types, string Text, Exception? Error)> StreamAsync(AnthropicClient client, MessageCreateParams parameters)
    {
        var types = new List<string>();
        var text = new StringBuilder();
        try
        {
            await foreach (var update in client.Messages.CreateStreaming(parameters))
            {
                types.Add(update.Type.Raw());
                if (update.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
                {
                    text.Append(textDelta.Text);
                }
            }
        }
        catch (AnthropicSseException error)
        {
            return (types, text.ToString(), error);
        }

        return (types, text.ToString(), null);
    }

    private Task<UpstreamAgent> AgentAsync(UpstreamStep[] primary, UpstreamStep[]? fallback = null) =>
        UpstreamAgent.CreateAsync(system, primary, fallback);
}
