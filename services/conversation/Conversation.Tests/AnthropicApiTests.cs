using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>Anthropic's Messages API (<c>POST /v1/messages</c>) against real Postgres and RabbitMQ, with the fake providers service.</summary>
public sealed class AnthropicApiTests : IClassFixture<ConversationFixture>
{
    private const string Weather = """{"name":"get_weather","description":"The weather in a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}""";

    private readonly ConversationFixture _fixture;

    public AnthropicApiTests(ConversationFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    [Fact]
    public async Task A_message_maps_the_request_answers_anthropic_json_and_is_stored_and_metered_on_channel_api()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync("VendorA", "VendorB", "Be brief.", name: "mars-guide");
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""
                {"model":"mars-guide","max_tokens":300,"temperature":0.3,"metadata":{"user_id":"u-7"},
                 "system":"Answer in French.",
                 "messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},
                             {"role":"user","content":[{"type":"text","text":"What is on Mars?"}]}]}
                """, Encoding.UTF8, "application/json"),
        };
        message.Headers.Add("anthropic-version", "2023-06-01");

        using var response = await tenant.Http.SendAsync(message);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var request = Assert.Single(_fixture.Providers.Requests);
        Assert.Equal(("VendorA", "VendorB", "Be brief."), (request.PrimaryProvider, request.FallbackProvider, request.SystemPrompt));
        Assert.Equal("system: Answer in French.\nuser: Hi\nassistant: Hello!\nWhat is on Mars?", request.UserContent);
        Assert.Equal(
            [new ChatTurn("system", "Answer in French."), new ChatTurn("user", "Hi"), new ChatTurn("assistant", "Hello!"), new ChatTurn("user", "What is on Mars?")],
            request.Turns!);
        Assert.Equal(new GenerationOptions(300, 0.3), request.Options);
        Assert.Null(request.Tools);

        var json = JsonNode.Parse(text)!;
        var transcript = await TranscriptAsync(tenant, agent);
        var assistant = transcript[1]!;
        Assert.Equal($"msg_{assistant["id"]!.GetValue<Guid>():N}", json["id"]!.GetValue<string>());
        Assert.Equal(("message", "assistant", "vendor-a"), (json["type"]!.GetValue<string>(), json["role"]!.GetValue<string>(), json["model"]!.GetValue<string>()));
        var block = Assert.Single(json["content"]!.AsArray())!;
        Assert.Equal("text", block["type"]!.GetValue<string>());
        Assert.Equal(FakeProviders.Result(request).Text, block["text"]!.GetValue<string>());
        Assert.Equal("end_turn", json["stop_reason"]!.GetValue<string>());
        Assert.Null(json["stop_sequence"]);
        var tokensIn = FakeProviders.TokensIn(request);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse($$"""{"input_tokens":{{tokensIn}},"output_tokens":{{FakeProviders.DefaultTokensOut}},"cache_read_input_tokens":0,"cache_creation_input_tokens":0}"""),
            json["usage"]), json["usage"]!.ToJsonString());

        // One session of the agent holds the exchange on channel api, and the event counts it.
        Assert.Equal(["user", "assistant"], transcript.Select(m => m!["role"]!.GetValue<string>()));
        Assert.All(transcript, m => Assert.Equal("api", m!["channel"]!.GetValue<string>()));
        Assert.Equal(request.UserContent, transcript[0]!["content"]!.GetValue<string>());
        var sessionId = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!["id"]!.GetValue<Guid>();
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(sessionId).Count > 0);
        var evt = Assert.Single(_fixture.Events.ForSession(sessionId));
        Assert.Equal(("api", agent, tokensIn, FakeProviders.DefaultTokensOut), (evt.Channel, evt.AgentId, evt.TokensIn, evt.TokensOut));
    }

    [Fact]
    public async Task A_streamed_message_is_message_start_a_text_block_of_deltas_message_delta_and_message_stop()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "streamer");

        await using var reply = await StreamAsync(tenant, Body("streamer", "Tell me about the red planet", stream: true), null);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("text/event-stream", reply.ContentType);
        var events = await reply.RestAsync();
        Assert.All(events, e => Assert.Equal(e.EventType, StreamedReply.Json(e)["type"]!.GetValue<string>()));
        var deltas = events.Count(e => e.EventType == "content_block_delta");
        Assert.Equal(
            ["message_start", "content_block_start", .. Enumerable.Repeat("content_block_delta", deltas), "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.EventType));
        Assert.True(deltas > 1, "the reply should arrive in several deltas");

        var request = Assert.Single(_fixture.Providers.Requests);
        var start = StreamedReply.Json(events[0])["message"]!;
        var assistant = (await TranscriptAsync(tenant, agent))[1]!;
        Assert.Equal($"msg_{assistant["id"]!.GetValue<Guid>():N}", start["id"]!.GetValue<string>());
        Assert.Equal(("message", "assistant", "vendor-a"), (start["type"]!.GetValue<string>(), start["role"]!.GetValue<string>(), start["model"]!.GetValue<string>()));
        Assert.Empty(start["content"]!.AsArray());
        Assert.Null(start["stop_reason"]);
        Assert.Equal(0, start["usage"]!["input_tokens"]!.GetValue<int>());
        Assert.Equal("""{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""", events[1].Data);
        var first = StreamedReply.Json(events[2]);
        Assert.Equal((0, "text_delta", "[VendorA] "), (first["index"]!.GetValue<int>(), first["delta"]!["type"]!.GetValue<string>(), first["delta"]!["text"]!.GetValue<string>()));
        var text = string.Concat(events.Where(e => e.EventType == "content_block_delta").Select(e => StreamedReply.Json(e)["delta"]!["text"]!.GetValue<string>()));
        Assert.Equal(FakeProviders.Result(request).Text, text);
        Assert.Equal(assistant["content"]!.GetValue<string>(), text);
        Assert.Equal("""{"type":"content_block_stop","index":0}""", events[^3].Data);
        Assert.Equal(
            $$$"""{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":{{{FakeProviders.TokensIn(request)}}},"output_tokens":{{{FakeProviders.DefaultTokensOut}}}}}""",
            events[^2].Data);
        Assert.Equal("""{"type":"message_stop"}""", events[^1].Data);
    }

    [Fact]
    public async Task The_first_text_delta_reaches_the_client_while_providers_is_still_streaming()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "eager");
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Every delta after the first waits until the client has read the first: a buffer on the way would time out.
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.Stream(FakeProviders.Result(request),
            beforeDelta: i => i == 0 ? Task.CompletedTask : firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(30)))));

        await using var reply = await StreamAsync(tenant, Body("eager", "One two three four", stream: true), null);

        Assert.Equal("message_start", (await reply.NextAsync())!.Value.EventType);
        Assert.Equal("content_block_start", (await reply.NextAsync())!.Value.EventType);
        var delta = (await reply.NextAsync())!.Value;
        Assert.Equal("[VendorA] ", StreamedReply.Json(delta)["delta"]!["text"]!.GetValue<string>());
        firstSeen.SetResult();
        Assert.Equal("message_stop", (await reply.RestAsync())[^1].EventType);
    }

    [Fact]
    public async Task A_reply_that_calls_tools_answers_tool_use_blocks_whole_and_streamed()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "tools");
        _fixture.Providers.Reset((request, context) =>
        {
            var result = FakeProviders.Result(request) with
            {
                Text = "Checking.",
                FinishReason = "tool_calls",
                ToolCalls = [new ToolCall("call_1", "get_weather", """{"city":"Paris"}"""), new ToolCall("call_2", "get_weather", """{"city":"Oslo"}""")],
            };
            return Task.FromResult(FakeProviders.WantsStream(context) ? FakeProviders.Stream(result) : TypedResults.Ok(result));
        });
        var body = $$"""{"model":"tools","max_tokens":100,"tools":[{{Weather}}],"messages":[{"role":"user","content":"Weather in Paris and Oslo?"}]}""";

        var whole = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", body);
        await using var streamed = await StreamAsync(tenant, body.Replace("\"max_tokens\":100", "\"max_tokens\":100,\"stream\":true", StringComparison.Ordinal), null);

        Assert.True(whole.Status == HttpStatusCode.OK, whole.Text);
        Assert.Equal(
            """[{"type":"text","text":"Checking."},{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"},"caller":{"type":"direct"}},{"type":"tool_use","id":"call_2","name":"get_weather","input":{"city":"Oslo"},"caller":{"type":"direct"}}]""",
            whole.Json["content"]!.ToJsonString());
        Assert.Equal("tool_use", whole.Json["stop_reason"]!.GetValue<string>());
        var tool = Assert.Single(_fixture.Providers.Requests.First().Tools!);
        Assert.Equal(("get_weather", "The weather in a city"), (tool.Name, tool.Description));
        Assert.Equal("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""", tool.Parameters!.Value.GetRawText());

        var events = await streamed.RestAsync();
        Assert.Equal(
            [
                "message_start", "content_block_start", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop",
            ],
            events.Select(e => e.EventType));
        Assert.Equal("""{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"get_weather","input":{},"caller":{"type":"direct"}}}""", events[4].Data);
        var input = StreamedReply.Json(events[5]);
        Assert.Equal((1, "input_json_delta", """{"city":"Paris"}"""),
            (input["index"]!.GetValue<int>(), input["delta"]!["type"]!.GetValue<string>(), input["delta"]!["partial_json"]!.GetValue<string>()));
        Assert.Equal("""{"type":"content_block_stop","index":2}""", events[9].Data);
        Assert.Equal("tool_use", StreamedReply.Json(events[^2])["delta"]!["stop_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tool_results_reach_providers_as_tool_turns_with_the_call_they_answer()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "tool-user");
        var body = $$$"""
            {"model":"tool-user","max_tokens":100,"tools":[{{{Weather}}}],"tool_choice":{"type":"auto"},"messages":[
              {"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":[{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"},"caller":{"type":"direct"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"18 C and sunny"},{"type":"text","text":"Thanks!"}]}]}
            """;

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", body);

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        var request = Assert.Single(_fixture.Providers.Requests);
        var turns = request.Turns!;
        Assert.Equal(["user", "assistant", "tool", "user"], turns.Select(t => t.Role));
        var call = Assert.Single(turns[1].ToolCalls!);
        Assert.Equal(new ToolCall("toolu_01", "get_weather", """{"city":"Paris"}"""), call);
        Assert.Equal(new ChatTurn("tool", "18 C and sunny", ToolCallId: "toolu_01"), turns[2]);
        Assert.Equal(new ChatTurn("user", "Thanks!"), turns[3]);
        Assert.Equal(new ToolChoice(ToolChoice.Auto), request.Options!.ToolChoice);
        Assert.Equal("user: Weather in Paris?\nassistant: [get_weather({\"city\":\"Paris\"})]\ntool: 18 C and sunny\nThanks!", request.UserContent);
    }

    [Theory]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":"hi"}]}""", "max_tokens: Field required.")]
    [InlineData("""{"model":"helper","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens: must be an integer of at least 1.")]
    [InlineData("""{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", "model: Field required.")]
    [InlineData("""{"model":"helper","max_tokens":10,"messages":[]}""", "messages: must contain at least one message.")]
    [InlineData("""{"model":"helper","max_tokens":10,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]}""", "not supported")]
    [InlineData("""{"model":"helper","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hel"}]}""", "the last message must have role \"user\"")]
    [InlineData("""{"model":"helper","max_tokens":10,"messages":[{"role":"user","content":"nul \u0000 inside"}]}""", "messages: the conversation (system, messages and tool results) must not")]
    [InlineData("""{"model":"helper","max_tokens":10,"messages":[{"role":"user","content":"hi"}""", "not valid JSON")]
    public async Task Bad_requests_are_400_invalid_request_error_in_anthropics_shape_and_never_reach_providers(string body, string message)
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "helper");

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", body);

        AssertError(reply, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains(message, reply.Json["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_conversation_over_the_content_limit_is_400()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "helper");
        var body = new JsonObject
        {
            ["model"] = "helper",
            ["max_tokens"] = 10,
            ["system"] = new string('s', 300_000),
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = new string('u', MessageInput.MaxConversationLength - 300_000 + 1) }),
        };

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", body.ToJsonString());

        AssertError(reply, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains($"at most {MessageInput.MaxConversationLength}", reply.Json["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task The_model_is_an_agent_by_name_or_id_and_anything_else_is_404_not_found_error()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "support");
        var deleted = await tenant.CreateAgentAsync(name: "retired");
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.SendAsync(HttpMethod.Delete, $"/agents/{deleted}")).Status);
        var theirs = await _fixture.NewTenant().CreateAgentAsync(name: "theirs");
        await tenant.CreateAgentAsync(name: "twin");
        await tenant.CreateAgentAsync(name: "twin");

        Assert.Equal(HttpStatusCode.OK, (await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body(agent.ToString()))).Status);
        Assert.Equal(HttpStatusCode.OK, (await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("support"))).Status);
        foreach (var model in new[] { "no-such-agent", Guid.NewGuid().ToString(), deleted.ToString(), "retired", theirs.ToString(), "theirs", "SUPPORT" })
        {
            var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body(model));
            AssertError(reply, HttpStatusCode.NotFound, "not_found_error");
            Assert.Contains(model, reply.Json["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        AssertError(await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("twin")), HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal(2, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_stream_that_fails_after_it_began_ends_with_an_error_event_without_message_stop_and_stores_nothing()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "cutter");
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.StreamThenFail(request, "Half ", "an ")));

        await using (var reply = await StreamAsync(tenant, Body("cutter", "Say something long", stream: true), "cut-key"))
        {
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            var events = await reply.RestAsync();
            Assert.Equal(["message_start", "content_block_start", "content_block_delta", "content_block_delta", "error"], events.Select(e => e.EventType));
            var error = StreamedReply.Json(events[^1]);
            Assert.Equal("error", error["type"]!.GetValue<string>());
            Assert.Equal("api_error", error["error"]!["type"]!.GetValue<string>());
            Assert.Contains("nothing was charged", error["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // With the client's key the empty session waits for the retry; nothing is in it and nothing was announced.
        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        Assert.Equal(0, session["messageCount"]!.GetValue<int>());

        // The key was released: the retry is a new request, stored and charged once.
        _fixture.Providers.Reset();
        var retry = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("cutter", "Say something long"), "cut-key");
        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.False(retry.Replayed);
        var sessionId = session["id"]!.GetValue<Guid>();
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(sessionId).Count > 0);
        await Task.Delay(300);
        Assert.Single(_fixture.Events.ForSession(sessionId));

        // Without a key a failed stream leaves no session behind.
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.StreamThenFail(request, "Half ")));
        await using (var keyless = await StreamAsync(tenant, Body("cutter", "Again", stream: true), null))
        {
            Assert.Equal("error", (await keyless.RestAsync())[^1].EventType);
        }

        Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray());
    }

    [Fact]
    public async Task The_same_key_and_request_replays_byte_identically_and_as_a_stream_with_one_charge()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "idem");

        var first = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("idem", "Count the moons of Mars"), "anthropic-key-1");
        var second = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("idem", "Count the moons of Mars"), "anthropic-key-1");
        await using var streamed = await StreamAsync(tenant, Body("idem", "Count the moons of Mars", stream: true), "anthropic-key-1");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.False(first.Replayed);
        Assert.True(second.Replayed);
        Assert.Equal(first.Body, second.Body);
        Assert.True(streamed.Replayed);
        var events = await streamed.RestAsync();
        Assert.Equal("message_stop", events[^1].EventType);
        Assert.Equal(first.Json["id"]!.GetValue<string>(), StreamedReply.Json(events[0])["message"]!["id"]!.GetValue<string>());
        Assert.Equal(first.Json["content"]![0]!["text"]!.GetValue<string>(),
            string.Concat(events.Where(e => e.EventType == "content_block_delta").Select(e => StreamedReply.Json(e)["delta"]!["text"]!.GetValue<string>())));
        Assert.Equal(1, _fixture.Providers.Calls);

        // Another request with the key: 422, and no provider call.
        foreach (var different in new[] { Body("idem", "Count the moons of Jupiter"), Body("idem", "Count the moons of Mars", maxTokens: 11) })
        {
            AssertError(await tenant.SendAsync(HttpMethod.Post, "/v1/messages", different, "anthropic-key-1"),
                (HttpStatusCode)StatusCodes.Status422UnprocessableEntity, "invalid_request_error");
        }

        // The key is the first request's: another agent gets no session from it.
        var other = await tenant.CreateAgentAsync(name: "other");
        AssertError(await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("other", "Count the moons of Mars"), "anthropic-key-1"),
            (HttpStatusCode)StatusCodes.Status422UnprocessableEntity, "invalid_request_error");
        Assert.Empty((await tenant.GetOkAsync($"/sessions?agentId={other}")).AsArray());
        Assert.Equal(1, _fixture.Providers.Calls);

        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        Assert.Equal(2, session["messageCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_streamed_answer_replays_whole_with_the_same_id_and_text()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "stream-then-whole");

        await using var streamed = await StreamAsync(tenant, Body("stream-then-whole", "Hello there, friend", stream: true), "stream-first");
        var events = await streamed.RestAsync();
        var whole = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("stream-then-whole", "Hello there, friend"), "stream-first");

        Assert.True(whole.Replayed);
        Assert.Equal(StreamedReply.Json(events[0])["message"]!["id"]!.GetValue<string>(), whole.Json["id"]!.GetValue<string>());
        Assert.Equal(
            string.Concat(events.Where(e => e.EventType == "content_block_delta").Select(e => StreamedReply.Json(e)["delta"]!["text"]!.GetValue<string>())),
            whole.Json["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_key_whose_request_is_still_running_answers_409_with_retry_after()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "busy");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.Stream(FakeProviders.Result(request),
            beforeDelta: i => i == 0 ? Task.CompletedTask : release.Task.WaitAsync(TimeSpan.FromSeconds(30)))));

        await using var running = await StreamAsync(tenant, Body("busy", "Keep going", stream: true), "busy-key");
        Assert.Equal("message_start", (await running.NextAsync())!.Value.EventType);

        var second = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("busy", "Keep going"), "busy-key");
        var secondStream = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("busy", "Keep going", stream: true), "busy-key");

        AssertError(second, HttpStatusCode.Conflict, "invalid_request_error");
        Assert.Equal("1", second.RetryAfter);
        AssertError(secondStream, HttpStatusCode.Conflict, "invalid_request_error");
        release.SetResult();
        Assert.Equal("message_stop", (await running.RestAsync())[^1].EventType);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task Another_request_with_a_running_requests_key_is_422_and_leaves_the_running_one_its_session()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "shared-key");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.Stream(FakeProviders.Result(request),
            beforeDelta: i => i == 0 ? Task.CompletedTask : release.Task.WaitAsync(TimeSpan.FromSeconds(30)))));

        await using var running = await StreamAsync(tenant, Body("shared-key", "The first question", stream: true), "shared");
        Assert.Equal("message_start", (await running.NextAsync())!.Value.EventType);

        // Same agent and key, so the same session, which is still empty: it is the running request's, not a stray one.
        var reused = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("shared-key", "Another question"), "shared");
        AssertError(reused, (HttpStatusCode)StatusCodes.Status422UnprocessableEntity, "invalid_request_error");
        release.SetResult();

        Assert.Equal("message_stop", (await running.RestAsync())[^1].EventType);
        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        Assert.Equal(2, session["messageCount"]!.GetValue<int>());
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Theory]
    [InlineData(400, "content_policy_violation", 400, "invalid_request_error")]
    [InlineData(404, "model_not_found", 404, "not_found_error")]
    [InlineData(401, "invalid_api_key", 502, "api_error")]
    public async Task An_upstream_refusal_reaches_the_client_with_its_status_and_message(int upstreamStatus, string code, int status, string type)
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "refused");
        _fixture.Providers.Reset(FakeProviders.Reject(upstreamStatus,
            new UpstreamError("Your request was rejected as a result of our safety system.", "invalid_request_error", code, null)));

        var whole = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("refused", "Something the provider will not do"));
        var streamed = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("refused", "Something the provider will not do", stream: true));

        foreach (var reply in new[] { whole, streamed })
        {
            AssertError(reply, (HttpStatusCode)status, type);
            var message = reply.Json["error"]!["message"]!.GetValue<string>();
            Assert.Contains("rejected as a result of our safety system", message, StringComparison.Ordinal);
            Assert.Contains(code, message, StringComparison.Ordinal);
        }

        Assert.Empty((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray());
    }

    [Fact]
    public async Task Providers_failing_is_502_api_error_and_unreachable_is_503_overloaded_with_retry_after_and_nothing_is_kept()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "fragile");
        _fixture.Providers.Reset(FakeProviders.FailEveryAttempt([new ProviderAttempt("VendorA", AttemptOutcomes.Error, 500, 10)]));

        AssertError(await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("fragile", "Hello", stream: true)), HttpStatusCode.BadGateway, "api_error");

        _fixture.Providers.Reset((_, _) => Task.FromResult<IResult>(TypedResults.StatusCode(StatusCodes.Status500InternalServerError)));
        var unavailable = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("fragile", "Hello"));
        AssertError(unavailable, HttpStatusCode.ServiceUnavailable, "overloaded_error");
        Assert.Equal("1", unavailable.RetryAfter);

        _fixture.Providers.Reset((_, _) => Task.FromResult<IResult>(TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["primaryProvider"] = ["Unknown provider 'Gone'; one of VendorA, VendorB."] })));
        var notConfigured = await tenant.SendAsync(HttpMethod.Post, "/v1/messages", Body("fragile", "Hello"));
        AssertError(notConfigured, HttpStatusCode.Conflict, "invalid_request_error");
        Assert.Contains("Unknown provider 'Gone'", notConfigured.Json["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Empty((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray());
    }

    private static string Body(string model, string content = "Hello", bool stream = false, int maxTokens = 64) =>
        new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = maxTokens,
            ["stream"] = stream,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
        }.ToJsonString();

    private static Task<StreamedReply> StreamAsync(TenantClient tenant, string body, string? key) =>
        StreamedReply.SendAsync(tenant.Http, "/v1/messages", body, key);

    private static async Task<JsonArray> TranscriptAsync(TenantClient tenant, Guid agent)
    {
        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        return (await tenant.GetOkAsync($"/sessions/{session["id"]!.GetValue<Guid>()}/transcript"))["messages"]!.AsArray();
    }

    private static void AssertError(Reply reply, HttpStatusCode status, string type)
    {
        Assert.True(reply.Status == status, $"expected {(int)status}, got {(int)reply.Status}: {reply.Text}");
        Assert.Equal("application/json", reply.ContentType);
        var json = reply.Json;
        Assert.Equal(["type", "error"], json.AsObject().Select(p => p.Key));
        Assert.Equal("error", json["type"]!.GetValue<string>());
        Assert.Equal(type, json["error"]!["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(json["error"]!["message"]!.GetValue<string>()));
    }
}
