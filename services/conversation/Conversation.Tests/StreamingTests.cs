using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>
/// Streamed replies through conversation (<c>Accept: text/event-stream</c> on the session API, <c>stream: true</c> on
/// the OpenAI API) against a fake providers service that streams: relayed as they come, stored once at the end,
/// never presented as whole when they broke.
/// </summary>
public sealed class StreamingTests : IClassFixture<ConversationFixture>
{
    private readonly ConversationFixture _fixture;

    public StreamingTests(ConversationFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    [Fact]
    public async Task A_streamed_message_relays_start_and_deltas_then_completes_with_the_stored_exchange()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();

        await using var reply = await StreamMessageAsync(tenant, session, "stream-1", "Tell me about the red planet");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("text/event-stream", reply.ContentType);
        var events = await reply.RestAsync();
        Assert.Equal("start", events[0].EventType);
        var start = StreamedReply.Json(events[0]);
        Assert.Equal(("VendorA", "vendor-a", false), (start["provider"]!.GetValue<string>(), start["model"]!.GetValue<string>(), start["fallbackUsed"]!.GetValue<bool>()));
        var deltas = events.Skip(1).TakeWhile(e => e.EventType == "delta").Select(e => StreamedReply.Json(e)["content"]!.GetValue<string>()).ToList();
        Assert.Equal(["[VendorA] ", "Tell ", "me ", "about ", "the ", "red ", "planet ", "..."], deltas);
        Assert.Equal("completed", events[^1].EventType);
        Assert.Equal(deltas.Count + 2, events.Count);
        var exchange = StreamedReply.Json(events[^1]);
        Assert.Equal(string.Concat(deltas), exchange["assistantMessage"]!["content"]!.GetValue<string>());
        Assert.Equal(start["assistantMessageId"]!.GetValue<Guid>(), exchange["assistantMessage"]!["id"]!.GetValue<Guid>());
        Assert.Equal("vendor-a", exchange["assistantMessage"]!["model"]!.GetValue<string>());

        // Stored once, announced once; a plain retry with the key answers the same exchange, byte for byte.
        var transcript = await tenant.GetOkAsync($"/sessions/{session}/transcript");
        Assert.Equal(2, transcript["messages"]!.AsArray().Count);
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session).Count > 0);
        Assert.Single(_fixture.Events.ForSession(session));
        var replay = await tenant.SendMessageAsync(session, "stream-1", "Tell me about the red planet");
        Assert.True(replay.Replayed);
        Assert.Equal(events[^1].Data, replay.Text);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_replay_asked_as_a_stream_is_a_stream_of_the_stored_reply()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var first = await tenant.SendMessageAsync(session, "replay-as-stream", "Hello there, friend");

        await using var replay = await StreamMessageAsync(tenant, session, "replay-as-stream", "Hello there, friend");

        Assert.Equal(HttpStatusCode.OK, replay.Status);
        Assert.True(replay.Replayed);
        var events = await replay.RestAsync();
        Assert.Equal(["start", "delta", "delta", "delta", "delta", "delta", "completed"], events.Select(e => e.EventType));
        Assert.Equal(first.Text, events[^1].Data);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task The_first_delta_reaches_the_client_while_providers_is_still_streaming()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The fake holds every delta after the first until the client has read the first: anything that buffered the
        // stream on the way would make the client wait for the whole reply, and the test would time out.
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.Stream(FakeProviders.Result(request),
            beforeDelta: i => i == 0 ? Task.CompletedTask : firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(30)))));

        await using var reply = await StreamMessageAsync(tenant, session, "no-buffering", "One two three four");

        Assert.Equal("start", (await reply.NextAsync())!.Value.EventType);
        var delta = (await reply.NextAsync())!.Value;
        Assert.Equal(("delta", "[VendorA] "), (delta.EventType, StreamedReply.Json(delta)["content"]!.GetValue<string>()));
        firstSeen.SetResult();
        Assert.Equal("completed", (await reply.RestAsync())[^1].EventType);
    }

    [Fact]
    public async Task A_stream_that_fails_after_it_began_ends_with_an_error_event_stores_nothing_and_frees_the_key()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.StreamThenFail(request, "Half ", "an ")));

        await using (var reply = await StreamMessageAsync(tenant, session, "cut-key", "Say something long"))
        {
            var events = await reply.RestAsync();
            Assert.Equal(["start", "delta", "delta", "error"], events.Select(e => e.EventType));
            var problem = StreamedReply.Json(events[^1]);
            Assert.Equal(502, problem["status"]!.GetValue<int>());
            Assert.Equal("stream_cut", problem["attempts"]![0]!["reason"]!.GetValue<string>());
            Assert.DoesNotContain(events, e => e.EventType == "completed");
        }

        Assert.Equal(0, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
        Assert.Empty((await tenant.GetOkAsync($"/sessions/{session}/transcript"))["messages"]!.AsArray());

        // Nothing was kept, so the same key is free for the retry, which completes and is the only charge.
        _fixture.Providers.Reset();
        await using var retry = await StreamMessageAsync(tenant, session, "cut-key", "Say something long");
        Assert.Equal("completed", (await retry.RestAsync())[^1].EventType);
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session).Count > 0);
        await Task.Delay(300);
        Assert.Single(_fixture.Events.ForSession(session));
    }

    [Fact]
    public async Task A_providers_stream_that_ends_without_completing_is_a_failure_not_a_reply()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.StreamThenEnd(request, "Only ", "this ")));

        await using var reply = await StreamMessageAsync(tenant, session, "broken-key", "Say something long");

        var events = await reply.RestAsync();
        Assert.Equal(["start", "delta", "delta", "error"], events.Select(e => e.EventType));
        Assert.Equal(0, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_key_whose_stream_is_still_running_answers_409()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.Stream(FakeProviders.Result(request),
            beforeDelta: i => i == 0 ? Task.CompletedTask : release.Task.WaitAsync(TimeSpan.FromSeconds(30)))));

        await using var running = await StreamMessageAsync(tenant, session, "busy-key", "Keep going");
        Assert.Equal("start", (await running.NextAsync())!.Value.EventType);

        var second = await tenant.SendMessageAsync(session, "busy-key", "Keep going");
        await using var secondStream = await StreamMessageAsync(tenant, session, "busy-key", "Keep going");

        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Equal("1", second.RetryAfter);
        Assert.Equal(HttpStatusCode.Conflict, secondStream.Status);
        Assert.Equal("application/problem+json", secondStream.ContentType);
        release.SetResult();
        Assert.Equal("completed", (await running.RestAsync())[^1].EventType);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_client_that_leaves_mid_stream_still_gets_its_reply_stored_for_the_retry()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        var left = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.Stream(FakeProviders.Result(request),
            beforeDelta: i => i == 0 ? Task.CompletedTask : left.Task.WaitAsync(TimeSpan.FromSeconds(30)))));

        await using (var reply = await StreamMessageAsync(tenant, session, "leaving-key", "Tell me a long story"))
        {
            Assert.Equal("start", (await reply.NextAsync())!.Value.EventType);
        }

        left.SetResult();
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session).Count > 0);
        var replay = await tenant.SendMessageAsync(session, "leaving-key", "Tell me a long story");
        Assert.True(replay.Replayed);
        Assert.Equal("[VendorA] Tell me a long story ...", replay.Json["assistantMessage"]!["content"]!.GetValue<string>());
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_failure_before_the_first_content_is_an_ordinary_problem_answer()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        _fixture.Providers.Reset(FakeProviders.FailEveryAttempt([new ProviderAttempt("VendorA", AttemptOutcomes.Error, 500, 3)]));

        await using var reply = await StreamMessageAsync(tenant, session, "early-failure", "Hello");

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.Equal(502, JsonNode.Parse(await reply.BodyAsync())!["status"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(400, "content_policy_violation", 400)]
    [InlineData(404, "model_not_found", 404)]
    [InlineData(401, "invalid_api_key", 502)]
    [InlineData(403, null, 502)]
    public async Task An_upstream_refusal_reaches_the_client_as_the_upstreams_error(int upstreamStatus, string? code, int clientStatus)
    {
        var tenant = _fixture.NewTenant();
        var agentId = await tenant.CreateAgentAsync(name: $"refused-{upstreamStatus}");
        var session = await tenant.CreateSessionAsync(agentId);
        _fixture.Providers.Reset(FakeProviders.Reject(upstreamStatus, new UpstreamError("Your request was rejected as a result of our safety system.", "invalid_request_error", code, null)));

        var message = await tenant.SendMessageAsync(session, "refused", "Something the provider will not do");
        var openAi = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            $$"""{"model":"refused-{{upstreamStatus}}","messages":[{"role":"user","content":"Something the provider will not do"}]}""");

        Assert.Equal((HttpStatusCode)clientStatus, message.Status);
        Assert.Equal("application/problem+json", message.ContentType);
        Assert.Contains("rejected as a result of our safety system", message.Json["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(code, message.Json["code"]?.GetValue<string>());
        Assert.Equal((HttpStatusCode)clientStatus, openAi.Status);
        var error = openAi.Json["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(code ?? "provider_rejected", error["code"]!.GetValue<string>());
        Assert.Equal(0, (await tenant.GetOkAsync($"/sessions/{session}"))["messageCount"]!.GetValue<int>());

        // Nothing was kept: the key may be used again.
        _fixture.Providers.Reset();
        Assert.Equal(HttpStatusCode.Created, (await tenant.SendMessageAsync(session, "refused", "Something the provider will not do")).Status);
    }

    [Fact]
    public async Task An_agent_whose_provider_is_no_longer_configured_answers_409()
    {
        var tenant = _fixture.NewTenant();
        var session = await tenant.CreateSessionAsync();
        _fixture.Providers.Reset((_, _) => Task.FromResult<IResult>(TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["primaryProvider"] = ["Unknown provider 'Gone'; one of VendorA, VendorB."] })));

        var reply = await tenant.SendMessageAsync(session, "gone", "Hello");

        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        Assert.Contains("Unknown provider 'Gone'", reply.Json["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agents_models_reach_providers()
    {
        var tenant = _fixture.NewTenant();
        var created = await tenant.SendAsync(HttpMethod.Post, "/agents",
            """{"name":"local","primaryProvider":"Local","primaryModel":"llama3.1:8b","fallbackProvider":"VendorB","systemPrompt":"Be brief."}""");
        var session = await tenant.CreateSessionAsync(created.Json["id"]!.GetValue<Guid>());
        _fixture.Providers.Reset((request, context) => FakeProviders.Succeed(request with { PrimaryProvider = "VendorA" }, context));

        await tenant.SendMessageOkAsync(session, "Hello");

        Assert.Equal(new CompletionRequest("Local", "VendorB", "Be brief.", "Hello", "llama3.1:8b", null), Assert.Single(_fixture.Providers.Requests));
    }

    [Fact]
    public async Task An_openai_stream_that_fails_after_it_began_ends_with_an_error_and_no_done()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "cutter");
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.StreamThenFail(request, "Partial ")));

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"cutter","stream":true,"messages":[{"role":"user","content":"Go on"}]}""");

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var data = reply.Text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal(3, data.Count);
        Assert.Equal("Partial ", JsonNode.Parse(data[1])!["choices"]![0]!["delta"]!["content"]!.GetValue<string>());
        Assert.Equal("stream_interrupted", JsonNode.Parse(data[2])!["error"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain("[DONE]", reply.Text, StringComparison.Ordinal);
        Assert.Empty((await tenant.GetOkAsync("/sessions")).AsArray());
    }

    private static Task<StreamedReply> StreamMessageAsync(TenantClient tenant, Guid session, string key, string content) =>
        StreamedReply.SendAsync(tenant.Http, $"/sessions/{session}/messages", System.Text.Json.JsonSerializer.Serialize(new { content }), key);
}
