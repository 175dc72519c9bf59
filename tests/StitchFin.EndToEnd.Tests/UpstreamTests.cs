using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Text.Json.Nodes;
using StitchFin.Testing.Upstream;

namespace StitchFin.EndToEnd.Tests;

/// <summary>
/// An <c>openai-compatible</c> provider through the edge, against a real fault-injecting upstream: for each fault, the
/// attempts the upstream saw (count and spacing), what the client received, and what the transcript and /usage hold.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class UpstreamTests(StitchFinSystem system)
{
    private const string Provider = UpstreamAgent.Provider;
    private const decimal InputPrice = UpstreamAgent.InputPrice;
    private const decimal OutputPrice = UpstreamAgent.OutputPrice;
    private const string SystemPrompt = UpstreamAgent.SystemPrompt;

    [Fact]
    public async Task The_catalogue_lists_the_upstreams_and_their_kinds_without_an_address_or_a_key()
    {
        var tenant = await Tenant.CreateAsync(system);

        using var response = await tenant.Client.GetAsync("/providers");

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(StitchFinSystem.UpstreamApiKey, body, StringComparison.Ordinal);
        Assert.DoesNotContain(system.Upstream.BaseUrl.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), body, StringComparison.Ordinal);
        var providers = JsonNode.Parse(body)!.AsArray();
        Assert.Equal(
            [("VendorA", "simulated"), ("VendorB", "simulated"), (Provider, "openai-compatible"),
             (StitchFinSystem.UpstreamAnthropicProvider, "anthropic"), (StitchFinSystem.UpstreamResponsesProvider, "openai-responses")],
            providers.Select(p => (p!["name"]!.GetValue<string>(), p["kind"]!.GetValue<string>())));
        Assert.All(providers.Skip(2), upstream => Assert.Equal((InputPrice, OutputPrice),
            (upstream!["inputPer1KTokens"]!.GetValue<decimal>(), upstream["outputPer1KTokens"]!.GetValue<decimal>())));
        Assert.Equal(HttpStatusCode.Unauthorized, (await system.CreateClient().GetAsync("/providers")).StatusCode);
    }

    [Fact]
    public async Task A_whole_reply_is_the_upstreams_with_its_usage_its_model_and_the_configured_key_and_headers()
    {
        var agent = await AgentAsync([UpstreamStep.Reply("Mars has two moons.", new UpstreamUsage(17, 6), reportedModel: "gpt-test-2026-01-01")]);

        var (status, exchange) = await SendAsync(agent, "How many moons has Mars?");

        Assert.Equal(HttpStatusCode.Created, status);
        var assistant = exchange["assistantMessage"]!;
        Assert.Equal("Mars has two moons.", assistant["content"]!.GetValue<string>());
        Assert.Equal((Provider, "gpt-test-2026-01-01", false), (assistant["provider"]!.GetValue<string>(), assistant["model"]!.GetValue<string>(), assistant["usageEstimated"]!.GetValue<bool>()));
        Assert.Equal((17, 6), (assistant["tokensIn"]!.GetValue<int>(), assistant["tokensOut"]!.GetValue<int>()));
        Assert.Equal(Cost(17, 6), assistant["costUsd"]!.GetValue<decimal>());
        var request = Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.Equal($"Bearer {StitchFinSystem.UpstreamApiKey}", request.Headers["Authorization"]);
        Assert.Equal("stitchfin-e2e", request.Headers["X-Upstream-Tenant"]);
        Assert.Equal([new UpstreamMessage("system", SystemPrompt), new UpstreamMessage("user", "How many moons has Mars?")], request.Messages);
        Assert.True(request.Stream);

        var transcript = await agent.Tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{agent.Session}/transcript", HttpStatusCode.OK);
        var stored = transcript["messages"]![1]!;
        Assert.Equal("gpt-test-2026-01-01", stored["model"]!.GetValue<string>());
        Assert.Equal("ok", stored["attempts"]![0]!["outcome"]!.GetValue<string>());
        var usage = await agent.Tenant.WaitForUsageAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal(Cost(17, 6), usage["totals"]!["costUsd"]!.GetValue<decimal>());
        Assert.Equal(Provider, usage["byProvider"]![0]!["provider"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_reply_without_usage_is_counted_by_the_gateway_and_marked_estimated()
    {
        var agent = await AgentAsync([UpstreamStep.Reply("twelve chars", omitUsage: true)]);

        var (_, exchange) = await SendAsync(agent, "Hi");

        var assistant = exchange["assistantMessage"]!;
        Assert.True(assistant["usageEstimated"]!.GetValue<bool>());
        // "SYSTEM: You are helpful.\nUSER: Hi" is 33 characters (9 tokens); the 12-character reply is 3.
        Assert.Equal((9, 3), (assistant["tokensIn"]!.GetValue<int>(), assistant["tokensOut"]!.GetValue<int>()));
        Assert.True(exchange["usage"]!["usageEstimated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_streamed_reply_relays_each_chunk_and_is_stored_and_metered_once_it_completed()
    {
        var agent = await AgentAsync([UpstreamStep.Reply("Streams arrive a word at a time", new UpstreamUsage(20, 7))]);

        await using var reply = await StreamAsync(agent, "Tell me about streams", "stream-key");
        var events = await reply.RestAsync();

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(["start", "delta", "delta", "delta", "delta", "delta", "delta", "delta", "completed"], events.Select(e => e.EventType));
        var deltas = events.Where(e => e.EventType == "delta").Select(e => StreamedReply.Json(e)["content"]!.GetValue<string>());
        Assert.Equal("Streams arrive a word at a time", string.Concat(deltas));
        var request = Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
        var exchange = StreamedReply.Json(events[^1]);
        Assert.Equal((20, 7), (exchange["usage"]!["tokensIn"]!.GetValue<int>(), exchange["usage"]!["tokensOut"]!.GetValue<int>()));

        var usage = await agent.Tenant.WaitForUsageAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, usage["totals"]!["messages"]!.GetValue<int>());
        Assert.Equal(Cost(20, 7), usage["totals"]!["costUsd"]!.GetValue<decimal>());

        // The completed stream is stored: a replay answers it whole, or as a stream when asked, without a second call.
        var (replayStatus, replayed) = await SendAsync(agent, "Tell me about streams", "stream-key");
        Assert.Equal(HttpStatusCode.Created, replayStatus);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(events[^1].Data), replayed), replayed.ToJsonString());
        await using var replayStream = await StreamAsync(agent, "Tell me about streams", "stream-key");
        Assert.True(replayStream.Replayed);
        Assert.Equal(events[^1].Data, (await replayStream.RestAsync())[^1].Data);
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
    }

    [Fact]
    public async Task The_first_chunk_reaches_the_client_long_before_the_upstream_has_finished()
    {
        var firstReceived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int words = 8;
        var text = string.Join(" ", Enumerable.Range(1, words).Select(i => $"word{i}"));
        // Chunks 200 ms apart, and the last one held until the client has the first: a buffer anywhere on the way
        // (providers, conversation, the edge) would hold the first chunk back, and this test would time out.
        var agent = await AgentAsync([UpstreamStep.Reply(text, chunkSpacing: TimeSpan.FromMilliseconds(200),
            beforeChunk: i => i == words - 1 ? firstReceived.Task.WaitAsync(TimeSpan.FromSeconds(30)) : Task.CompletedTask)]);

        var sent = Stopwatch.GetTimestamp();
        await using var reply = await StreamAsync(agent, "Count slowly", Guid.NewGuid().ToString());
        Assert.Equal("start", (await reply.NextAsync())!.Value.EventType);
        Assert.Equal("delta", (await reply.NextAsync())!.Value.EventType);
        var firstAt = Stopwatch.GetTimestamp();
        firstReceived.SetResult();
        var rest = await reply.RestAsync();

        Assert.Equal("completed", rest[^1].EventType);
        var request = Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        var lastChunkSent = request.ChunkSentAt[^1];
        Assert.True(firstAt < lastChunkSent, "the first chunk arrived only after the upstream had sent its last");
        var total = Stopwatch.GetElapsedTime(sent, lastChunkSent);
        var first = Stopwatch.GetElapsedTime(sent, firstAt);
        Assert.True(total >= TimeSpan.FromMilliseconds(200 * (words - 1)), $"the upstream took {total.TotalMilliseconds} ms");
        Assert.True(first < total, $"first chunk after {first.TotalMilliseconds} ms of {total.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retried_after_the_wait_and_then_answers()
    {
        var agent = await AgentAsync([UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(1)), UpstreamStep.Reply("After the wait.")]);

        var (status, exchange) = await SendAsync(agent, "Please");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("After the wait.", exchange["assistantMessage"]!["content"]!.GetValue<string>());
        Assert.Equal([("rate_limited", 429), ("ok", 200)], Attempts(exchange));
        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(2, requests.Count);
        Assert.True(Gap(requests[0], requests[1]) >= TimeSpan.FromSeconds(1), $"retried after {Gap(requests[0], requests[1]).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_429_asking_for_longer_than_the_cap_fails_over_at_once()
    {
        var agent = await AgentAsync([UpstreamStep.RateLimited(retryAfterDate: DateTimeOffset.UtcNow.AddMinutes(5))], [UpstreamStep.Reply("From the fallback.")]);

        var (status, exchange) = await SendAsync(agent, "Please");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.True(exchange["assistantMessage"]!["fallbackUsed"]!.GetValue<bool>());
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.Equal("retry_after_too_long", exchange["attempts"]![0]!["reason"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Server_errors_are_retried_twice_with_backoff_then_the_fallback_answers(int status)
    {
        var agent = await AgentAsync([UpstreamStep.Status(status)], [UpstreamStep.Reply("Fallback here.", reportedModel: "fallback-model-v2")]);

        var (reply, exchange) = await SendAsync(agent, "Are you there?");

        Assert.Equal(HttpStatusCode.Created, reply);
        var assistant = exchange["assistantMessage"]!;
        Assert.True(assistant["fallbackUsed"]!.GetValue<bool>());
        Assert.Equal("fallback-model-v2", assistant["model"]!.GetValue<string>());
        Assert.Equal([("error", status), ("error", status), ("error", status), ("ok", 200)], Attempts(exchange));
        var requests = system.Upstream.RequestsFor(agent.Primary);
        Assert.Equal(3, requests.Count);
        // Backoff: 100 ms base with ±50% jitter, doubling.
        Assert.True(Gap(requests[0], requests[1]) >= TimeSpan.FromMilliseconds(50));
        Assert.True(Gap(requests[1], requests[2]) >= TimeSpan.FromMilliseconds(100));
        Assert.Single(system.Upstream.RequestsFor(agent.Fallback!));
    }

    [Fact]
    public async Task Without_a_fallback_exhausted_retries_are_a_502_and_nothing_is_charged()
    {
        var agent = await AgentAsync([UpstreamStep.Status(503)], fallback: null);

        var (status, problem) = await SendAsync(agent, "Anyone?");

        Assert.Equal(HttpStatusCode.BadGateway, status);
        Assert.Equal(3, problem["attempts"]!.AsArray().Count);
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task A_connection_reset_before_the_headers_is_retried()
    {
        var agent = await AgentAsync([UpstreamStep.Reset(), UpstreamStep.Reply("Second time lucky.")]);

        var (status, exchange) = await SendAsync(agent, "Hello");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("connection_failed", exchange["attempts"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal(2, system.Upstream.RequestsFor(agent.Primary).Count);
    }

    [Fact]
    public async Task A_silent_upstream_times_out_each_attempt_then_fails_over()
    {
        var agent = await AgentAsync([UpstreamStep.Silent()], [UpstreamStep.Reply("I am here.")]);

        var (status, exchange) = await SendAsync(agent, "Hello?");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("I am here.", exchange["assistantMessage"]!["content"]!.GetValue<string>());
        var attempts = exchange["attempts"]!.AsArray();
        Assert.Equal(4, attempts.Count);
        Assert.All(attempts.Take(3), a => Assert.Equal(("timeout", "first_token_timeout"), (a!["outcome"]!.GetValue<string>(), a["reason"]!.GetValue<string>())));
        Assert.All(attempts.Take(3), a => Assert.True(a!["latencyMs"]!.GetValue<int>() >= 2900));
        Assert.Equal(3, system.Upstream.RequestsFor(agent.Primary).Count);
    }

    [Fact]
    public async Task A_stream_whose_first_token_is_late_fails_over_before_the_client_sees_anything()
    {
        var agent = await AgentAsync([UpstreamStep.DelayFirstToken(TimeSpan.FromMinutes(5), "Too late")], [UpstreamStep.Reply("On time.")]);

        await using var reply = await StreamAsync(agent, "Quick!", Guid.NewGuid().ToString());
        var events = await reply.RestAsync();

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var start = StreamedReply.Json(events[0]);
        Assert.Equal(agent.Fallback, start["model"]!.GetValue<string>());
        Assert.True(start["fallbackUsed"]!.GetValue<bool>());
        Assert.Equal("On time.", string.Concat(events.Where(e => e.EventType == "delta").Select(e => StreamedReply.Json(e)["content"]!.GetValue<string>())));
        Assert.Equal("completed", events[^1].EventType);
        Assert.Equal(3, system.Upstream.RequestsFor(agent.Primary).Count);
    }

    [Fact]
    public async Task A_stream_cut_midway_reaches_the_client_as_an_error_and_is_neither_stored_nor_charged()
    {
        var agent = await AgentAsync([UpstreamStep.CutAfter(2, "This will not be finished today")], [UpstreamStep.Reply("never used")]);

        await using (var reply = await StreamAsync(agent, "Start something", "cut-key"))
        {
            var events = await reply.RestAsync();
            Assert.Equal(["start", "delta", "delta", "error"], events.Select(e => e.EventType));
            Assert.Equal("stream_cut", StreamedReply.Json(events[^1])["attempts"]![0]!["reason"]!.GetValue<string>());
        }

        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        Assert.Empty(system.Upstream.RequestsFor(agent.Fallback!));
        await agent.AssertNothingStoredOrChargedAsync();

        // The key is free again: the retry is a new request, and the only charge.
        system.Upstream.Script(agent.Primary, UpstreamStep.Reply("Finished this time."));
        var (status, _) = await SendAsync(agent, "Start something", "cut-key");
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(1, (await agent.Tenant.WaitForUsageAsync(1, TimeSpan.FromSeconds(10)))["totals"]!["messages"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_stream_that_stalls_midway_ends_in_an_error_after_the_idle_limit()
    {
        var agent = await AgentAsync([UpstreamStep.StallAfter(2, "Waiting for the rest of this")]);

        await using var reply = await StreamAsync(agent, "Go", Guid.NewGuid().ToString());
        var events = await reply.RestAsync();

        Assert.Equal(["start", "delta", "delta", "error"], events.Select(e => e.EventType));
        var attempt = StreamedReply.Json(events[^1])["attempts"]![0]!;
        Assert.Equal(("timeout", "idle_timeout"), (attempt["outcome"]!.GetValue<string>(), attempt["reason"]!.GetValue<string>()));
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Theory]
    [InlineData("omit-done")]
    [InlineData("no-finish-reason")]
    public async Task A_stream_that_ends_without_done_or_finish_reason_is_an_error_not_a_reply(string fault)
    {
        var step = fault == "omit-done" ? UpstreamStep.OmitDone("Almost a whole answer") : UpstreamStep.NoFinishReason("Almost a whole answer");
        var agent = await AgentAsync([step]);

        await using var reply = await StreamAsync(agent, "Go", Guid.NewGuid().ToString());
        var events = await reply.RestAsync();

        Assert.Equal("error", events[^1].EventType);
        Assert.DoesNotContain(events, e => e.EventType == "completed");
        Assert.Equal("stream_incomplete", StreamedReply.Json(events[^1])["attempts"]![0]!["reason"]!.GetValue<string>());
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task A_malformed_stream_event_is_skipped_and_counted_and_the_reply_is_whole()
    {
        var agent = await AgentAsync([UpstreamStep.InvalidEvent("Good words only please", afterContentChunks: 2)]);

        await using var reply = await StreamAsync(agent, "Go", Guid.NewGuid().ToString());
        var events = await reply.RestAsync();

        Assert.Equal("completed", events[^1].EventType);
        var deltas = events.Where(e => e.EventType == "delta").Select(e => StreamedReply.Json(e)["content"]!.GetValue<string>()).ToList();
        Assert.Equal(["Good ", "words ", "only ", "please"], deltas);
        Assert.Equal(1, StreamedReply.Json(events[^1])["attempts"]![0]!["skippedEvents"]!.GetValue<int>());
    }

    [Fact]
    public async Task Context_length_exceeded_fails_over_without_resending_to_the_same_model()
    {
        var agent = await AgentAsync([UpstreamStep.ContextLengthExceeded()], [UpstreamStep.Reply("I have a bigger window.")]);

        var (status, exchange) = await SendAsync(agent, "A very long conversation");

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("I have a bigger window.", exchange["assistantMessage"]!["content"]!.GetValue<string>());
        Assert.Equal("context_length_exceeded", exchange["attempts"]![0]!["reason"]!.GetValue<string>());
        Assert.Single(system.Upstream.RequestsFor(agent.Primary));
    }

    [Fact]
    public async Task A_content_policy_refusal_is_the_clients_answer_without_retry_or_failover_or_charge()
    {
        var agent = await AgentAsync([UpstreamStep.ContentPolicyViolation()], [UpstreamStep.Reply("never used")]);

        var (status, problem) = await SendAsync(agent, "Something unsafe");
        var openAi = await OpenAiAsync(agent, "Something unsafe", stream: false);
        await using var streamed = await StreamAsync(agent, "Something unsafe", Guid.NewGuid().ToString());

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("content_policy_violation", problem["code"]!.GetValue<string>());
        Assert.Contains("safety system", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, openAi.Status);
        Assert.Equal("content_policy_violation", openAi.Json["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, streamed.Status);
        Assert.Equal(3, system.Upstream.RequestsFor(agent.Primary).Count);
        Assert.Empty(system.Upstream.RequestsFor(agent.Fallback!));
        await agent.AssertNothingStoredOrChargedAsync();
    }

    [Fact]
    public async Task An_upstream_failing_for_a_while_opens_its_circuit_which_skips_it_and_probes_it_again()
    {
        // Fails for 6 s, then recovers. The system's breaker: 50% of at least 8 calls in 30 s; open for 3 s.
        var agent = await AgentAsync([UpstreamStep.FailFor(TimeSpan.FromSeconds(6), UpstreamStep.Reply("Recovered."))], [UpstreamStep.Reply("Fallback.")]);

        var opened = false;
        var clock = Stopwatch.StartNew();
        while (!opened && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var (_, exchange) = await SendAsync(agent, "Ping");
            var refused = exchange["attempts"]!.AsArray().FirstOrDefault(a => a!["reason"]?.GetValue<string>() == "circuit_open");
            opened = refused is not null;
            if (opened)
            {
                // Refused by the open circuit without a call; the fallback answered.
                Assert.Equal((agent.Primary, 0), (refused!["model"]!.GetValue<string>(), refused["latencyMs"]!.GetValue<int>()));
                Assert.Equal("Fallback.", exchange["assistantMessage"]!["content"]!.GetValue<string>());
            }
        }

        Assert.True(opened, "the circuit never opened");
        var recovered = false;
        while (!recovered && clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            var (_, exchange) = await SendAsync(agent, "Ping");
            recovered = exchange["assistantMessage"]!["content"]!.GetValue<string>() == "Recovered.";
            if (!recovered)
            {
                await Task.Delay(250);
            }
        }

        Assert.True(recovered, "the primary was never probed again after it recovered");
    }

    [Fact]
    public async Task The_openai_api_answers_with_the_model_that_answered_and_streams_through_a_failover()
    {
        var agent = await AgentAsync([UpstreamStep.Reset()], [UpstreamStep.Reply("A rescued stream of words", reportedModel: "rescuer-1")]);

        var whole = await OpenAiAsync(agent, "Hello", stream: false);
        var streamed = await OpenAiAsync(agent, "Hello", stream: true);

        Assert.Equal(HttpStatusCode.OK, whole.Status);
        Assert.Equal("rescuer-1", whole.Json["model"]!.GetValue<string>());
        Assert.Equal("A rescued stream of words", whole.Json["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        var chunks = streamed.Text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", chunks[^1]);
        Assert.All(chunks[..^1], c => Assert.Equal("rescuer-1", JsonNode.Parse(c)!["model"]!.GetValue<string>()));
    }

    private Task<UpstreamAgent> AgentAsync(UpstreamStep[] primary, UpstreamStep[]? fallback = null) =>
        UpstreamAgent.CreateAsync(system, primary, fallback);

    private static async Task<(HttpStatusCode Status, JsonNode Json)> SendAsync(UpstreamAgent agent, string content, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{agent.Session}/messages") { Content = JsonContent.Create(new { content }) };
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString());
        using var response = await agent.Tenant.Client.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static Task<StreamedReply> StreamAsync(UpstreamAgent agent, string content, string key) =>
        StreamedReply.SendAsync(agent.Tenant.Client, $"/sessions/{agent.Session}/messages", JsonSerializer.Serialize(new { content }), key);

    private static async Task<(HttpStatusCode Status, string Text, JsonNode Json)> OpenAiAsync(UpstreamAgent agent, string content, bool stream)
    {
        using var response = await agent.Tenant.Client.PostAsJsonAsync("/v1/chat/completions",
            new { model = agent.Name, stream, messages = new[] { new { role = "user", content } } });
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text, stream && response.IsSuccessStatusCode ? new JsonObject() : JsonNode.Parse(text)!);
    }

    private static List<(string Outcome, int Status)> Attempts(JsonNode exchange) =>
        exchange["attempts"]!.AsArray().Select(a => (a!["outcome"]!.GetValue<string>(), a["status"]?.GetValue<int>() ?? 0)).ToList();

    private static TimeSpan Gap(UpstreamRequest first, UpstreamRequest second) => Stopwatch.GetElapsedTime(first.ReceivedAt, second.ReceivedAt);

    private static decimal Cost(int tokensIn, int tokensOut) => UpstreamAgent.Cost(tokensIn, tokensOut);
}
