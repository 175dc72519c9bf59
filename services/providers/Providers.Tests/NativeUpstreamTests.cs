using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Tests.Support;
using StitchFin.Testing.Upstream;

namespace StitchFin.Providers.Tests;

/// <summary>
/// One service and one fault-injecting upstream for the native kinds' tests. None of them waits for a first token to
/// time out, so that limit is generous: the first call of each protocol in a fresh process (JIT, connections) may take
/// longer than the 1 s the chat tests use, and a retried first attempt would change the attempts a test asserts.
/// </summary>
public sealed class NativeUpstreamFixture : IAsyncLifetime
{
    public UpstreamService Service { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Service = await UpstreamService.StartAsync(new Dictionary<string, string> { ["FirstTokenTimeoutMs"] = "10000" });

    public async Task DisposeAsync() => await Service.DisposeAsync();
}

/// <summary>
/// Providers of kind <c>anthropic</c> and <c>openai-responses</c>, through <c>POST /internal/completions</c>, against the
/// fault-injecting upstream speaking those APIs over loopback: each request arrives in the upstream's own API, each
/// reply and each fault is read back, and retries, failover and the stream's commit behave as for chat completions.
/// Every test runs once per kind.
/// </summary>
public sealed class NativeUpstreamTests(NativeUpstreamFixture fixture) : IClassFixture<NativeUpstreamFixture>
{
    private const string SystemPrompt = "Be brief.";
    private const string UserContent = "Hello";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan ClockTick = TimeSpan.FromMilliseconds(10);
    private static readonly ProviderPrice Price = new(UpstreamService.InputPer1K, UpstreamService.OutputPer1K);

    private static readonly ToolDefinition Weather = new(
        "get_weather", "The weather in a city.",
        JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""").RootElement);

    private static readonly UpstreamToolCall Call = new("call_7", "get_weather", """{"city":"Paris","unit":"celsius"}""");

    private UpstreamService Service => fixture.Service;

    private FaultyUpstream Upstream => fixture.Service.Upstream;

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_whole_reply_is_asked_for_in_the_upstreams_own_api_and_priced_from_the_usage_it_reports(string kind)
    {
        var model = $"{kind}-whole";
        Upstream.Script(model, UpstreamStep.Reply("Hi there, friend.", new UpstreamUsage(17, 5, CachedTokens: 12), reportedModel: "native-2026-01-01"));

        var result = await Service.CompleteAsync(Request(kind, model));

        Assert.Equal((Provider(kind), "native-2026-01-01", false), (result.Provider, result.Model, result.FallbackUsed));
        Assert.Equal(("Hi there, friend.", "stop"), (result.Text, result.FinishReason));
        // Anthropic reports 5 input tokens and 12 cache reads apart; the Responses API 17 with 12 of them cached.
        Assert.Equal((17, 5, 12, false), (result.TokensIn, result.TokensOut, result.CachedTokensIn, result.UsageEstimated));
        Assert.Equal(CostFormula.CostUsd(Price, 17, 5), result.CostUsd);
        Assert.Equal([$"{Provider(kind)}/{model} ok 200 -"], result.Attempts.Select(Describe));

        var seen = Assert.Single(Upstream.RequestsFor(model));
        Assert.Equal("gateway", seen.Headers["X-Team"]);
        Assert.Equal("text/event-stream", seen.Headers["Accept"]);
        Assert.True(seen.Stream);
        Assert.Equal(SystemPrompt, seen.System);
        Assert.Equal([new UpstreamMessage("user", UserContent)], seen.Messages);
        using var body = JsonDocument.Parse(seen.Body);
        var root = body.RootElement;
        if (kind == ProviderKinds.Anthropic)
        {
            Assert.Equal(("POST", "/v1/messages", UpstreamApi.AnthropicMessages), (seen.Method, seen.Path, seen.Api));
            Assert.Equal(UpstreamService.ApiKey, seen.Headers["x-api-key"]);
            Assert.Equal("2023-06-01", seen.Headers["anthropic-version"]);
            Assert.False(seen.Headers.ContainsKey("Authorization"));
            Assert.Equal(SystemPrompt, root.GetProperty("system").GetString());
            Assert.Equal(UpstreamService.AnthropicDefaultMaxTokens, root.GetProperty("max_tokens").GetInt32());
            var message = Assert.Single(root.GetProperty("messages").EnumerateArray());
            Assert.Equal("text", message.GetProperty("content")[0].GetProperty("type").GetString());
        }
        else
        {
            Assert.Equal(("POST", "/v1/responses", UpstreamApi.Responses), (seen.Method, seen.Path, seen.Api));
            Assert.Equal($"Bearer {UpstreamService.ApiKey}", seen.Headers["Authorization"]);
            Assert.Equal(SystemPrompt, root.GetProperty("instructions").GetString());
            Assert.False(root.GetProperty("store").GetBoolean());
            Assert.Equal("input_text", Assert.Single(root.GetProperty("input").EnumerateArray()).GetProperty("content")[0].GetProperty("type").GetString());
            Assert.False(root.TryGetProperty("messages", out _));
        }
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_streamed_reply_relays_each_delta_and_completes_with_the_reported_usage(string kind)
    {
        var model = $"{kind}-stream";
        Upstream.Script(model, UpstreamStep.Reply("The quick brown fox", new UpstreamUsage(9, 4), reportedModel: "native-0613"));

        var stream = await Service.StreamAsync(Request(kind, model));

        stream.AssertShape(4, CompletionStreamEvents.Completed);
        Assert.Equal(new StreamStart(Provider(kind), "native-0613", false), stream.Start);
        Assert.Equal(["The ", "quick ", "brown ", "fox"], stream.Deltas);
        var result = stream.Completed!;
        Assert.Equal(("The quick brown fox", "stop", 9, 4, false), (result.Text, result.FinishReason, result.TokensIn, result.TokensOut, result.UsageEstimated));
        Assert.Equal([$"{Provider(kind)}/{model} ok 200 -"], result.Attempts.Select(Describe));
        Assert.Equal(["replied"], await OutcomesAsync(Upstream.RequestsFor(model)));
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_provider_that_cannot_stream_is_asked_for_whole_native_replies(string kind)
    {
        var model = $"{kind}-whole-only";
        Upstream.Script(model, UpstreamStep.Reply("All at once, please.", new UpstreamUsage(9, 4)));
        var request = new CompletionRequest(WholeProvider(kind), null, SystemPrompt, UserContent, model);

        var whole = await Service.CompleteAsync(request);
        var streamed = await Service.StreamAsync(request);

        Assert.Equal(("All at once, please.", 9, 4), (whole.Text, whole.TokensIn, whole.TokensOut));
        Assert.Equal(["All at once, please."], streamed.Deltas);
        Assert.All(Upstream.RequestsFor(model), seen =>
        {
            Assert.False(seen.Stream);
            Assert.Equal("application/json", seen.Headers["Accept"]);
        });
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic, false)]
    [InlineData(ProviderKinds.Anthropic, true)]
    [InlineData(ProviderKinds.OpenAiResponses, false)]
    [InlineData(ProviderKinds.OpenAiResponses, true)]
    public async Task A_tool_round_trip_goes_out_as_native_tool_blocks_and_the_call_comes_back_whole_or_in_pieces(string kind, bool streamed)
    {
        var model = $"{kind}-tools-{streamed}";
        Upstream.Script(model, UpstreamStep.ToolCalls([Call], "Let me check. ", new UpstreamUsage(30, 12)), UpstreamStep.Reply("It is 18 degrees in Paris."));
        var ask = Request(kind, model, fallback: null) with
        {
            Tools = [Weather],
            Options = new GenerationOptions(MaxOutputTokens: 200, Temperature: 0.2, ToolChoice: new ToolChoice(ToolChoice.Function, "get_weather")),
        };
        var answer = ask with
        {
            Turns =
            [
                new ChatTurn(ChatRoles.User, "What is the weather in Paris?"),
                new ChatTurn(ChatRoles.Assistant, "Let me check. ", [new ToolCall(Call.Id, Call.Name, Call.Arguments)]),
                new ChatTurn(ChatRoles.Tool, "18 C, sunny", ToolCallId: Call.Id),
            ],
        };

        var called = streamed ? (await Service.StreamAsync(ask)).Completed! : await Service.CompleteAsync(ask);
        var replied = streamed ? (await Service.StreamAsync(answer)).Completed! : await Service.CompleteAsync(answer);

        Assert.Equal(("tool_calls", "Let me check. ", 30, 12), (called.FinishReason, called.Text, called.TokensIn, called.TokensOut));
        Assert.Equal([new ToolCall(Call.Id, Call.Name, Call.Arguments)], called.ToolCalls!);
        Assert.Equal(("It is 18 degrees in Paris.", "stop"), (replied.Text, replied.FinishReason));
        Assert.Null(replied.ToolCalls);

        var requests = Upstream.RequestsFor(model);
        Assert.Equal(2, requests.Count);
        using var first = JsonDocument.Parse(requests[0].Body);
        using var second = JsonDocument.Parse(requests[1].Body);
        var tool = Assert.Single(first.RootElement.GetProperty("tools").EnumerateArray());
        Assert.Equal("get_weather", tool.GetProperty("name").GetString());
        if (kind == ProviderKinds.Anthropic)
        {
            Assert.Equal("city", tool.GetProperty("input_schema").GetProperty("required")[0].GetString());
            Assert.Equal(("tool", "get_weather"), (first.RootElement.GetProperty("tool_choice").GetProperty("type").GetString(),
                first.RootElement.GetProperty("tool_choice").GetProperty("name").GetString()));
            Assert.Equal(200, first.RootElement.GetProperty("max_tokens").GetInt32());
            var messages = second.RootElement.GetProperty("messages");
            Assert.Equal(["user", "assistant", "user"], messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
            var toolUse = messages[1].GetProperty("content")[1];
            Assert.Equal(("tool_use", Call.Id, "Paris"), (toolUse.GetProperty("type").GetString(), toolUse.GetProperty("id").GetString(),
                toolUse.GetProperty("input").GetProperty("city").GetString()));
            var toolResult = messages[2].GetProperty("content")[0];
            Assert.Equal(("tool_result", Call.Id, "18 C, sunny"), (toolResult.GetProperty("type").GetString(),
                toolResult.GetProperty("tool_use_id").GetString(), toolResult.GetProperty("content").GetString()));
        }
        else
        {
            Assert.Equal("city", tool.GetProperty("parameters").GetProperty("required")[0].GetString());
            Assert.False(tool.GetProperty("strict").GetBoolean());
            Assert.Equal("get_weather", first.RootElement.GetProperty("tool_choice").GetProperty("name").GetString());
            Assert.Equal(200, first.RootElement.GetProperty("max_output_tokens").GetInt32());
            Assert.Equal(
                ["message", "message", "function_call", "function_call_output"],
                second.RootElement.GetProperty("input").EnumerateArray().Select(i => i.GetProperty("type").GetString()));
            Assert.Equal(
                [new UpstreamMessage("user", "What is the weather in Paris?"), new UpstreamMessage("assistant", "Let me check. "),
                 new UpstreamMessage("function_call", $"get_weather({Call.Arguments})"), new UpstreamMessage("function_call_output", "18 C, sunny")],
                requests[1].Messages);
        }
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_429_with_retry_after_is_retried_after_that_wait(string kind)
    {
        var model = $"{kind}-429";
        Upstream.Script(model, UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(1)), UpstreamStep.Reply("Waited."));

        var result = await Service.CompleteAsync(Request(kind, model));

        Assert.Equal(("Waited.", false), (result.Text, result.FallbackUsed));
        Assert.Equal([$"{Provider(kind)}/{model} rate_limited 429 rate_limited", $"{Provider(kind)}/{model} ok 200 -"], result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor(model);
        Assert.Equal(2, seen.Count);
        var gap = Stopwatch.GetElapsedTime(seen[0].ReceivedAt, seen[1].ReceivedAt);
        Assert.True(gap >= TimeSpan.FromSeconds(1) - ClockTick, $"retried after {gap.TotalMilliseconds:0} ms");
        Assert.Empty(Upstream.RequestsFor(model + "-fallback"));
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_server_error_is_retried_then_the_fallback_answers(string kind)
    {
        var model = $"{kind}-5xx";
        Upstream.Script(model, UpstreamStep.Status(kind == ProviderKinds.Anthropic ? 529 : 500));
        Upstream.Script(model + "-fallback", UpstreamStep.Reply("Fallback reply."));

        var result = await Service.CompleteAsync(Request(kind, model));

        var status = kind == ProviderKinds.Anthropic ? 529 : 500;
        Assert.Equal(("Fallback reply.", model + "-fallback", true), (result.Text, result.Model, result.FallbackUsed));
        Assert.Equal(
            [.. Enumerable.Repeat($"{Provider(kind)}/{model} error {status} server_error", 3), $"{Provider(kind)}/{model}-fallback ok 200 -"],
            result.Attempts.Select(Describe));
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_stream_cut_after_its_first_content_ends_in_a_failed_event_without_retry_or_failover(string kind)
    {
        var model = $"{kind}-cut";
        Upstream.Script(model, UpstreamStep.CutAfter(2, "alpha beta gamma delta"));
        Upstream.Script(model + "-fallback", UpstreamStep.Reply("Never asked."));

        var stream = await Service.StreamAsync(Request(kind, model));

        stream.AssertShape(2, CompletionStreamEvents.Failed);
        Assert.Equal(["alpha ", "beta "], stream.Deltas);
        var failure = stream.Failed!;
        Assert.Equal(CompletionFailureReasons.StreamFailed, failure.Reason);
        Assert.Equal([$"{Provider(kind)}/{model} error 200 stream_cut"], failure.Attempts.Select(Describe));
        Assert.Equal(["cut"], await OutcomesAsync(Upstream.RequestsFor(model)));
        Assert.Empty(Upstream.RequestsFor(model + "-fallback"));
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_stream_cut_before_any_content_is_retried_without_the_caller_noticing(string kind)
    {
        var model = $"{kind}-cut-early";
        Upstream.Script(model, UpstreamStep.CutAfter(0, "lost words"), UpstreamStep.Reply("Second time lucky"));

        var stream = await Service.StreamAsync(Request(kind, model));

        stream.AssertShape(3, CompletionStreamEvents.Completed);
        Assert.Equal("Second time lucky", stream.Completed!.Text);
        Assert.Equal([$"{Provider(kind)}/{model} error 200 stream_cut", $"{Provider(kind)}/{model} ok 200 -"], stream.Completed.Attempts.Select(Describe));
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_stream_that_stalls_after_its_first_content_ends_in_a_failed_event_after_the_idle_timeout(string kind)
    {
        var model = $"{kind}-stall";
        Upstream.Script(model, UpstreamStep.StallAfter(2, "alpha beta gamma delta"));

        var stream = await Service.StreamAsync(Request(kind, model));

        stream.AssertShape(2, CompletionStreamEvents.Failed);
        var failure = stream.Failed!;
        Assert.Equal([$"{Provider(kind)}/{model} timeout 200 idle_timeout"], failure.Attempts.Select(Describe));
        Assert.Equal("stalled-aborted", await Assert.Single(Upstream.RequestsFor(model)).Finished.WaitAsync(Patience));
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_stream_without_its_finish_is_incomplete_and_a_malformed_event_is_skipped_and_counted(string kind)
    {
        var incomplete = $"{kind}-no-finish";
        var malformed = $"{kind}-malformed";
        Upstream.Script(incomplete, UpstreamStep.NoFinishReason("alpha beta gamma"));
        Upstream.Script(malformed, UpstreamStep.InvalidEvent("alpha beta gamma", afterContentChunks: 1));

        var failed = await Service.StreamAsync(Request(kind, incomplete, fallback: null));
        var skipped = await Service.StreamAsync(Request(kind, malformed, fallback: null));

        failed.AssertShape(3, CompletionStreamEvents.Failed);
        Assert.Equal([$"{Provider(kind)}/{incomplete} error 200 stream_incomplete"], failed.Failed!.Attempts.Select(Describe));
        skipped.AssertShape(3, CompletionStreamEvents.Completed);
        Assert.Equal("alpha beta gamma", skipped.Completed!.Text);
        Assert.Equal(1, Assert.Single(skipped.Completed.Attempts).SkippedEvents);
    }

    [Theory]
    [InlineData(ProviderKinds.Anthropic)]
    [InlineData(ProviderKinds.OpenAiResponses)]
    public async Task A_context_too_long_fails_over_at_once_and_a_content_policy_refusal_is_the_callers_error(string kind)
    {
        var context = $"{kind}-context";
        var policy = $"{kind}-policy";
        Upstream.Script(context, UpstreamStep.ContextLengthExceeded());
        Upstream.Script(context + "-fallback", UpstreamStep.Reply("A bigger model."));
        Upstream.Script(policy, UpstreamStep.ContentPolicyViolation());
        Upstream.Script(policy + "-fallback", UpstreamStep.Reply("Never asked."));

        var result = await Service.CompleteAsync(Request(kind, context));
        var failure = await Service.FailAsync(Request(kind, policy), stream: true);

        Assert.Equal(("A bigger model.", true), (result.Text, result.FallbackUsed));
        Assert.Equal([$"{Provider(kind)}/{context} error 400 context_length_exceeded", $"{Provider(kind)}/{context}-fallback ok 200 -"], result.Attempts.Select(Describe));
        Assert.Equal((CompletionFailureReasons.Rejected, 400), (failure.Reason, failure.UpstreamStatus));
        Assert.Equal("invalid_request_error", failure.UpstreamError?.Type);
        Assert.Equal(
            kind == ProviderKinds.Anthropic ? "Output blocked by content filtering policy" : "Your request was rejected as a result of our safety system.",
            failure.UpstreamError?.Message);
        Assert.Equal([$"{Provider(kind)}/{policy} error 400 rejected"], failure.Attempts.Select(Describe));
        Assert.Empty(Upstream.RequestsFor(policy + "-fallback"));
    }

    [Fact]
    public async Task A_responses_reply_ends_at_the_first_stop_sequence_and_keeps_the_usage_the_upstream_reported()
    {
        const string Model = "openai-responses-stop";
        Upstream.Script(Model, UpstreamStep.Reply("The quick brown fox jumps over", new UpstreamUsage(9, 6)));
        var request = Request(ProviderKinds.OpenAiResponses, Model, fallback: null) with { Options = new GenerationOptions(Stop: ["fox", "dog"]) };

        var stream = await Service.StreamAsync(request);

        var result = stream.Completed!;
        Assert.Equal("The quick brown ", string.Concat(stream.Deltas));
        Assert.Equal(("The quick brown ", "stop", 9, 6), (result.Text, result.FinishReason, result.TokensIn, result.TokensOut));
        using var body = JsonDocument.Parse(Assert.Single(Upstream.RequestsFor(Model)).Body);
        Assert.False(body.RootElement.TryGetProperty("stop", out _));
    }

    private static string Provider(string kind) =>
        kind == ProviderKinds.Anthropic ? UpstreamService.AnthropicProvider : UpstreamService.ResponsesProvider;

    private static string WholeProvider(string kind) =>
        kind == ProviderKinds.Anthropic ? UpstreamService.AnthropicWholeProvider : UpstreamService.ResponsesWholeProvider;

    /// <summary>The model on the kind's provider, with "{model}-fallback" on the same provider unless <paramref name="fallback"/> is null.</summary>
    private static CompletionRequest Request(string kind, string model, string? fallback = "") =>
        new(Provider(kind), fallback is null ? null : Provider(kind), SystemPrompt, UserContent, model,
            fallback is null ? null : fallback.Length == 0 ? model + "-fallback" : fallback);

    private static string Describe(ProviderAttempt attempt) =>
        $"{attempt.Provider}/{attempt.Model} {attempt.Outcome} {attempt.Status?.ToString(CultureInfo.InvariantCulture) ?? "-"} {attempt.Reason ?? "-"}";

    private static async Task<string[]> OutcomesAsync(IEnumerable<UpstreamRequest> requests) =>
        await Task.WhenAll(requests.Select(r => r.Finished.WaitAsync(Patience)));
}
