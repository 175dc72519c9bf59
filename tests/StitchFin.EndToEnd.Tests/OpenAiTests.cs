using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace StitchFin.EndToEnd.Tests;

/// <summary>The official OpenAI .NET SDK against the edge's OpenAI-compatible API, with a tenant key as its API key.</summary>
[Collection(SystemCollection.Name)]
public sealed class OpenAiTests(StitchFinSystem system)
{
    [Fact]
    public async Task A_completion_answers_with_the_agents_provider_and_usage()
    {
        var tenant = await Tenant.CreateAsync(system);
        await tenant.CreateAgentAsync("VendorB", null, "openai-helper");
        var chat = Client(tenant.ApiKey).GetChatClient("openai-helper");

        ChatCompletion completion = await chat.CompleteChatAsync(
            [new SystemChatMessage("Answer briefly."), new UserChatMessage("What is the capital of France?")]);

        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal("vendor-b", completion.Model);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        var text = Assert.Single(completion.Content).Text;
        Assert.StartsWith("[VendorB] ", text);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.InRange(completion.Usage.OutputTokenCount, 30, 120);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.InRange(completion.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task A_streamed_completion_assembles_from_its_chunks()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agentId = (await tenant.CreateAgentAsync("VendorA", "VendorB", "streaming-helper"))["id"]!.GetValue<Guid>();
        var chat = Client(tenant.ApiKey).GetChatClient(agentId.ToString());

        var text = new StringBuilder();
        var updates = 0;
        ChatFinishReason? finishReason = null;
        string? completionId = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Tell me about streaming responses over HTTP")]))
        {
            updates++;
            completionId ??= update.CompletionId;
            Assert.Equal(completionId, update.CompletionId);
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finishReason ??= update.FinishReason;
        }

        Assert.True(updates > 3, $"only {updates} updates");
        Assert.Equal(ChatFinishReason.Stop, finishReason);
        Assert.Matches(@"^\[Vendor[AB]\] Tell me about streaming responses over HTTP \.\.\.$", text.ToString());
    }

    [Fact]
    public async Task The_sdk_streams_a_real_upstreams_reply_through_a_failover_chunk_by_chunk()
    {
        var tenant = await Tenant.CreateAsync(system);
        var tag = Guid.NewGuid().ToString("N")[..8];
        system.Upstream.Script($"cut-{tag}", Testing.Upstream.UpstreamStep.CutAfter(0, "never"));
        system.Upstream.Script($"good-{tag}", Testing.Upstream.UpstreamStep.Reply(
            "Rivers of tokens flow from the upstream to you", reportedModel: "upstream-model-7", chunkSpacing: TimeSpan.FromMilliseconds(20)));
        await tenant.ExpectAsync(HttpMethod.Post, "/agents", HttpStatusCode.Created, new
        {
            name = $"sdk-{tag}",
            primaryProvider = StitchFinSystem.UpstreamProvider,
            primaryModel = $"cut-{tag}",
            fallbackProvider = StitchFinSystem.UpstreamProvider,
            fallbackModel = $"good-{tag}",
        });
        var chat = Client(tenant.ApiKey).GetChatClient($"sdk-{tag}");

        var text = new StringBuilder();
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in chat.CompleteChatStreamingAsync(
            [new UserChatMessage("Tell me about rivers")]))
        {
            updates.Add(update);
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal("Rivers of tokens flow from the upstream to you", text.ToString());
        Assert.All(updates, u => Assert.Equal("upstream-model-7", u.Model));
        Assert.Equal(ChatFinishReason.Stop, updates.Select(u => u.FinishReason).Single(r => r is not null));
        Assert.True(updates[^1].Usage.TotalTokenCount > 0);
        // The primary was tried three times (cut before any content), then the fallback streamed.
        Assert.Equal(3, system.Upstream.RequestsFor($"cut-{tag}").Count);
        Assert.Single(system.Upstream.RequestsFor($"good-{tag}"));
    }

    [Fact]
    public async Task The_model_list_is_the_tenants_agents()
    {
        var tenant = await Tenant.CreateAsync(system);
        await tenant.CreateAgentAsync(name: "alpha");
        await tenant.CreateAgentAsync(name: "beta");
        var other = await Tenant.CreateAsync(system);
        await other.CreateAgentAsync(name: "gamma");

        OpenAIModelCollection models = await Client(tenant.ApiKey).GetOpenAIModelClient().GetModelsAsync();

        Assert.Equal(["alpha", "beta"], models.Select(m => m.Id).Order());
        Assert.All(models, m => Assert.Equal("stitchfin", m.OwnedBy));
    }

    [Fact]
    public async Task A_bad_key_is_401()
    {
        var chat = Client("sfk_not_a_real_key_" + Guid.NewGuid().ToString("N")).GetChatClient("anything");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal((int)HttpStatusCode.Unauthorized, error.Status);
    }

    [Fact]
    public async Task An_unknown_model_is_404()
    {
        var tenant = await Tenant.CreateAsync(system);
        await tenant.CreateAgentAsync(name: "known");
        var chat = Client(tenant.ApiKey).GetChatClient("unknown-model");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal((int)HttpStatusCode.NotFound, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_counts_completions_plain_and_streamed()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agentId = (await tenant.CreateAgentAsync("VendorA", "VendorB", "metered"))["id"]!.GetValue<Guid>();
        var chat = Client(tenant.ApiKey).GetChatClient("metered");

        ChatCompletion plain = await chat.CompleteChatAsync([new UserChatMessage("Count me once")]);
        await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage("Count me twice")]))
        {
        }

        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var path = $"/usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
        var clock = Stopwatch.StartNew();
        var usage = await tenant.ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
        while (usage["totals"]!["messages"]!.GetValue<int>() < 2 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(100);
            usage = await tenant.ExpectAsync(HttpMethod.Get, path, HttpStatusCode.OK);
        }

        Assert.Equal(2, usage["totals"]!["messages"]!.GetValue<int>());
        Assert.True(usage["totals"]!["tokensIn"]!.GetValue<int>() > plain.Usage.InputTokenCount);
        var byAgent = Assert.Single(usage["byAgent"]!.AsArray())!;
        Assert.Equal(agentId, byAgent["agentId"]!.GetValue<Guid>());
        Assert.Equal(2, byAgent["messages"]!.GetValue<int>());
    }

    private OpenAIClient Client(string apiKey) =>
        new(new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = new Uri(system.EdgeUrl, "/v1") });
}
