using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.OpenAi;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>The OpenAI-compatible endpoints against real Postgres and RabbitMQ, with the fake providers service.</summary>
public sealed class OpenAiApiTests : IClassFixture<ConversationFixture>
{
    private readonly ConversationFixture _fixture;

    public OpenAiApiTests(ConversationFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    [Fact]
    public async Task A_completion_maps_the_messages_answers_openai_json_and_is_stored_and_metered_on_channel_api()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync("VendorA", "VendorB", "Be brief.", name: "mars-guide");
        var body = """
            {"model":"mars-guide","temperature":0.2,"messages":[
              {"role":"system","content":"Answer in French."},
              {"role":"user","content":"Hi"},
              {"role":"assistant","content":"Hello!"},
              {"role":"user","content":[{"type":"text","text":"What is on Mars?"}]}]}
            """;

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions", body);

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        Assert.Equal("application/json", reply.ContentType);
        Assert.False(reply.Replayed);
        var request = Assert.Single(_fixture.Providers.Requests);
        Assert.Equal(new CompletionRequest("VendorA", "VendorB", "Be brief.", "system: Answer in French.\nuser: Hi\nassistant: Hello!\nWhat is on Mars?")
            { Options = new GenerationOptions(Temperature: 0.2) },
            request with { Turns = null });
        // The upstream gets the messages as messages; the one text is what the transcript keeps and the simulators quote.
        Assert.Equal(
            [new ChatTurn("system", "Answer in French."), new ChatTurn("user", "Hi"), new ChatTurn("assistant", "Hello!"), new ChatTurn("user", "What is on Mars?")],
            request.Turns!);

        var json = reply.Json;
        var expectedText = FakeProviders.Result(request).Text;
        Assert.StartsWith("chatcmpl-", json["id"]!.GetValue<string>());
        Assert.Equal("chat.completion", json["object"]!.GetValue<string>());
        Assert.Equal("vendor-a", json["model"]!.GetValue<string>());
        var choice = Assert.Single(json["choices"]!.AsArray())!;
        Assert.Equal(0, choice["index"]!.GetValue<int>());
        Assert.Equal("assistant", choice["message"]!["role"]!.GetValue<string>());
        Assert.Equal(expectedText, choice["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        var tokensIn = FakeProviders.TokensIn(request);
        Assert.Equal(tokensIn, json["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(FakeProviders.DefaultTokensOut, json["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(tokensIn + FakeProviders.DefaultTokensOut, json["usage"]!["total_tokens"]!.GetValue<int>());

        // One session of the agent holds the exchange, on channel api, and created is its reply's time in unix seconds.
        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        var sessionId = session["id"]!.GetValue<Guid>();
        Assert.Equal(2, session["messageCount"]!.GetValue<int>());
        var messages = (await tenant.GetOkAsync($"/sessions/{sessionId}/transcript"))["messages"]!.AsArray();
        Assert.Equal(["user", "assistant"], messages.Select(m => m!["role"]!.GetValue<string>()));
        Assert.All(messages, m => Assert.Equal("api", m!["channel"]!.GetValue<string>()));
        Assert.Equal(request.UserContent, messages[0]!["content"]!.GetValue<string>());
        var assistant = messages[1]!;
        Assert.Equal($"chatcmpl-{assistant["id"]!.GetValue<Guid>():N}", json["id"]!.GetValue<string>());
        Assert.Equal(assistant["createdAt"]!.GetValue<DateTimeOffset>().ToUnixTimeSeconds(), json["created"]!.GetValue<long>());

        await _fixture.Events.WaitUntilAsync(e => e.ForSession(sessionId).Count > 0);
        var evt = Assert.Single(_fixture.Events.ForSession(sessionId));
        Assert.Equal(("api", agent, tokensIn, FakeProviders.DefaultTokensOut), (evt.Channel, evt.AgentId, evt.TokensIn, evt.TokensOut));
    }

    [Fact]
    public async Task The_model_is_an_agent_by_name_or_id_and_anything_else_is_404_model_not_found()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "support");
        var deleted = await tenant.CreateAgentAsync(name: "retired");
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.SendAsync(HttpMethod.Delete, $"/agents/{deleted}")).Status);
        var theirs = await _fixture.NewTenant().CreateAgentAsync(name: "theirs");

        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(tenant, agent.ToString())).Status);
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(tenant, "support")).Status);
        foreach (var model in new[] { "no-such-agent", Guid.NewGuid().ToString(), deleted.ToString(), "retired", theirs.ToString(), "theirs", "SUPPORT" })
        {
            var reply = await CompleteAsync(tenant, model);
            AssertError(reply, HttpStatusCode.NotFound, "invalid_request_error", "model_not_found", "model");
            Assert.Contains(model, reply.Json["error"]!["message"]!.GetValue<string>());
        }

        Assert.Equal(2, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_name_two_agents_share_is_ambiguous_and_the_models_list_names_those_agents_by_id()
    {
        var tenant = _fixture.NewTenant();
        var unique = await tenant.CreateAgentAsync(name: "unique");
        var twinA = await tenant.CreateAgentAsync(name: "twin");
        var twinB = await tenant.CreateAgentAsync(name: "twin");
        await _fixture.NewTenant().CreateAgentAsync(name: "elsewhere");

        AssertError(await CompleteAsync(tenant, "twin"), HttpStatusCode.BadRequest, "invalid_request_error", "model_ambiguous", "model");
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(tenant, twinB.ToString())).Status);

        var list = await tenant.GetOkAsync("/v1/models");
        Assert.Equal("list", list["object"]!.GetValue<string>());
        var models = list["data"]!.AsArray();
        Assert.Equal(new[] { twinB.ToString(), twinA.ToString(), "unique" }, models.Select(m => m!["id"]!.GetValue<string>()));
        Assert.All(models, m =>
        {
            Assert.Equal("model", m!["object"]!.GetValue<string>());
            Assert.Equal("stitchfin", m["owned_by"]!.GetValue<string>());
        });
        var agent = await tenant.GetOkAsync($"/agents/{unique}");
        Assert.Equal(agent["createdAt"]!.GetValue<DateTimeOffset>().ToUnixTimeSeconds(), models[2]!["created"]!.GetValue<long>());

        Assert.Equal("unique", (await tenant.GetOkAsync("/v1/models/unique"))["id"]!.GetValue<string>());
        Assert.Equal(twinA.ToString(), (await tenant.GetOkAsync($"/v1/models/{twinA}"))["id"]!.GetValue<string>());
        AssertError(await tenant.SendAsync(HttpMethod.Get, "/v1/models/elsewhere"), HttpStatusCode.NotFound, "invalid_request_error", "model_not_found", "model");
    }

    [Fact]
    public async Task The_models_list_holds_at_most_a_thousand_and_pages_the_openai_way()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(_fixture.Factory.CreateClientFor(tenantId));
        var at = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        Agent NewAgent(string name, DateTimeOffset createdAt, bool deleted = false) => new()
        {
            Id = Guid.NewGuid(), TenantId = tenantId, Name = name, PrimaryProvider = "VendorA", SystemPrompt = "",
            CreatedAt = createdAt, UpdatedAt = createdAt, DeletedAt = deleted ? createdAt : null,
        };
        // 1001 agents created in one microsecond, a deleted one, and two that share a name on the first and last pages.
        var newestTwin = NewAgent("twin", at.AddSeconds(1));
        var oldestTwin = NewAgent("twin", at.AddSeconds(-1));
        var agents = Enumerable.Range(1, 1001).Select(i => NewAgent($"model-{i}", at)).Append(newestTwin).Append(oldestTwin).Append(NewAgent("gone", at, deleted: true)).ToList();
        await _fixture.WithDbAsync(db =>
        {
            db.Agents.AddRange(agents);
            return db.SaveChangesAsync();
        });
        var expected = agents.Where(a => a.DeletedAt is null).Select(a => a.Name == "twin" ? a.Id.ToString() : a.Name).ToHashSet();

        var capped = await tenant.GetOkAsync("/v1/models");
        Assert.Equal(["object", "data", "first_id", "last_id", "has_more"], capped.AsObject().Select(p => p.Key));
        Assert.Equal(AgentModels.MaxListLimit, capped["data"]!.AsArray().Count);
        Assert.True(capped["has_more"]!.GetValue<bool>());
        Assert.Equal(newestTwin.Id.ToString(), capped["first_id"]!.GetValue<string>());
        Assert.Equal(capped["data"]!.AsArray()[^1]!["id"]!.GetValue<string>(), capped["last_id"]!.GetValue<string>());

        var seen = new List<string>();
        var page = await tenant.GetOkAsync("/v1/models?limit=400");
        while (true)
        {
            var ids = page["data"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
            Assert.InRange(ids.Count, 1, 400);
            seen.AddRange(ids);
            if (!page["has_more"]!.GetValue<bool>())
            {
                break;
            }

            page = await tenant.GetOkAsync($"/v1/models?limit=400&after={Uri.EscapeDataString(page["last_id"]!.GetValue<string>())}");
        }

        Assert.Equal(1003, seen.Count);
        Assert.Equal(expected, seen.ToHashSet());
        Assert.Equal(oldestTwin.Id.ToString(), seen[^1]);

        foreach (var limit in new[] { "0", "1001", "many", "" })
        {
            AssertError(await tenant.SendAsync(HttpMethod.Get, $"/v1/models?limit={limit}"), HttpStatusCode.BadRequest, "invalid_request_error", "invalid_value", "limit");
        }

        foreach (var after in new[] { "no-such-model", "gone", "twin", Guid.NewGuid().ToString() })
        {
            AssertError(await tenant.SendAsync(HttpMethod.Get, $"/v1/models?after={after}"), HttpStatusCode.BadRequest, "invalid_request_error", "invalid_value", "after");
        }
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model", "missing_required_parameter")]
    [InlineData("""{"model":"","messages":[{"role":"user","content":"hi"}]}""", "model", "invalid_type")]
    [InlineData("""{"model":"helper"}""", "messages", "missing_required_parameter")]
    [InlineData("""{"model":"helper","messages":[]}""", "messages", "empty_array")]
    [InlineData("""{"model":"helper","messages":[{"role":"system","content":"be nice"}]}""", "messages", "missing_user_message")]
    [InlineData("""{"model":"helper","messages":[{"role":"function","name":"f","content":"42"},{"role":"user","content":"hi"}]}""", "messages[0].role", "unsupported_role")]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":"hi"},{"role":"tool","content":"42"}]}""", "messages[1].tool_call_id", "missing_required_parameter")]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]},{"role":"user","content":"go"}]}""", "messages[1].tool_calls[0].id", "missing_required_parameter")]
    [InlineData("""{"model":"helper","tools":[{"type":"web_search"}],"messages":[{"role":"user","content":"hi"}]}""", "tools[0].type", "unsupported_tool")]
    [InlineData("""{"model":"helper","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}},"messages":[{"role":"user","content":"hi"}]}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"helper","temperature":3,"messages":[{"role":"user","content":"hi"}]}""", "temperature", "invalid_value")]
    [InlineData("""{"model":"helper","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}""", "max_tokens", "invalid_value")]
    [InlineData("""{"model":"helper","stop":["a","b","c","d","e"],"messages":[{"role":"user","content":"hi"}]}""", "stop", "invalid_value")]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"Hel"}]}""", "messages[1].role", "invalid_value")]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":""}]}""", "messages[0].content", "invalid_value")]
    [InlineData("""{"model":"helper","messages":[{"role":"user"}]}""", "messages[0].content", "missing_required_parameter")]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0]", "unsupported_content")]
    [InlineData("""{"model":"helper","stream":"yes","messages":[{"role":"user","content":"hi"}]}""", "stream", "invalid_type")]
    [InlineData("""{"model":"helper","n":2,"messages":[{"role":"user","content":"hi"}]}""", "n", "invalid_value")]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":"hi"}""", null, "invalid_json")]
    [InlineData("""[1,2]""", null, "invalid_json")]
    [InlineData("""{"model":"helper","messages":[{"role":"user","content":"nul \u0000 inside"}]}""", "messages", "invalid_value")]
    public async Task Bad_requests_are_400_in_openai_error_shape_and_never_reach_providers(string body, string? param, string code)
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "helper");

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions", body);

        AssertError(reply, HttpStatusCode.BadRequest, "invalid_request_error", code, param);
        Assert.Equal(0, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_renamed_or_deleted_agent_is_resolved_anew_at_once_though_resolutions_are_kept()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "alpha");
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(tenant, "alpha")).Status);

        var renamed = await tenant.SendAsync(HttpMethod.Put, $"/agents/{agent}", new { name = "beta", primaryProvider = "VendorA" });
        Assert.Equal(HttpStatusCode.OK, renamed.Status);

        AssertError(await CompleteAsync(tenant, "alpha"), HttpStatusCode.NotFound, "invalid_request_error", "model_not_found", "model");
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(tenant, "beta")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.SendAsync(HttpMethod.Delete, $"/agents/{agent}")).Status);
        AssertError(await CompleteAsync(tenant, "beta"), HttpStatusCode.NotFound, "invalid_request_error", "model_not_found", "model");
    }

    [Fact]
    public async Task A_conversation_longer_than_a_session_message_is_served_and_one_over_the_conversation_limit_is_400_context_length_exceeded()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "helper");
        JsonObject Body(int assistantLength, int userLength) => new()
        {
            ["model"] = "helper",
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "assistant", ["content"] = new string('a', assistantLength) },
                new JsonObject { ["role"] = "user", ["content"] = new string('b', userLength) }),
        };

        // Coding agents send long conversations: well past the session API's 16,000-character message.
        var served = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions", Body(30_000, 20_000).ToJsonString());
        Assert.Equal(HttpStatusCode.OK, served.Status);
        Assert.Equal(1, _fixture.Providers.Calls);

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            Body(MessageInput.MaxConversationLength - 100_000, 100_001).ToJsonString());

        AssertError(reply, HttpStatusCode.BadRequest, "invalid_request_error", "context_length_exceeded", "messages");
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_tool_round_trip_forwards_tools_and_options_returns_the_calls_whole_and_streamed_and_sends_the_output_back()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "tooler");
        _fixture.Providers.Reset((request, context) => Task.FromResult(FakeProviders.WantsStream(context)
            ? FakeProviders.Stream(FakeProviders.ToolCallResult(request, new ToolCall("call_7", "get_weather", """{"city":"Paris"}""")))
            : (IResult)TypedResults.Ok(FakeProviders.ToolCallResult(request, new ToolCall("call_7", "get_weather", """{"city":"Paris"}""")))));
        const string Tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object"}}}]""";
        var ask = $$"""{"model":"tooler","tools":{{Tools}},"tool_choice":"required","max_tokens":64,"temperature":0.2,"messages":[{"role":"user","content":"Weather in Paris?"}]""";

        var whole = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions", ask + "}");

        Assert.True(whole.Status == HttpStatusCode.OK, whole.Text);
        var choice = whole.Json["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Null(choice["message"]!["content"]);
        var call = Assert.Single(choice["message"]!["tool_calls"]!.AsArray())!;
        Assert.Equal(("call_7", "function", "get_weather", """{"city":"Paris"}"""),
            (call["id"]!.GetValue<string>(), call["type"]!.GetValue<string>(), call["function"]!["name"]!.GetValue<string>(), call["function"]!["arguments"]!.GetValue<string>()));
        var forwarded = Assert.Single(_fixture.Providers.Requests);
        Assert.Equal("get_weather", Assert.Single(forwarded.Tools!).Name);
        Assert.Equal(new GenerationOptions(64, 0.2, null, null, new ToolChoice(ToolChoice.Required)), forwarded.Options);

        await using (var streamed = await StreamedReply.SendAsync(tenant.Http, "/v1/chat/completions", ask + ""","stream":true}""", null))
        {
            var chunks = (await streamed.RestAsync()).Select(e => e.Data).ToList();
            Assert.Equal("[DONE]", chunks[^1]);
            var deltas = chunks[..^1].Select(c => JsonNode.Parse(c)!["choices"]![0]!).ToList();
            var streamedCall = Assert.Single(deltas, d => d["delta"]!["tool_calls"] is not null)!["delta"]!["tool_calls"]![0]!;
            Assert.Equal((0, "call_7", """{"city":"Paris"}"""),
                (streamedCall["index"]!.GetValue<int>(), streamedCall["id"]!.GetValue<string>(), streamedCall["function"]!["arguments"]!.GetValue<string>()));
            Assert.Equal("tool_calls", deltas[^1]["finish_reason"]!.GetValue<string>());
        }

        _fixture.Providers.Reset();
        var answer = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions", $$$"""
            {"model":"tooler","tools":{{{Tools}}},"messages":[{"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"call_7","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
             {"role":"tool","tool_call_id":"call_7","content":"{\"celsius\":18}"}]}
            """);

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Text);
        Assert.Equal("stop", answer.Json["choices"]![0]!["finish_reason"]!.GetValue<string>());
        var turns = Assert.Single(_fixture.Providers.Requests).Turns!;
        Assert.Equal(3, turns.Count);
        Assert.Equal("call_7", Assert.Single(turns[1].ToolCalls!).Id);
        Assert.Equal(new ChatTurn("tool", """{"celsius":18}""", ToolCallId: "call_7"), turns[2]);
    }

    [Fact]
    public async Task Another_request_with_a_running_requests_key_is_422_and_leaves_the_running_one_its_session()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "shared-key");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.Stream(FakeProviders.Result(request),
            beforeDelta: i => i == 0 ? Task.CompletedTask : release.Task.WaitAsync(TimeSpan.FromSeconds(30)))));

        await using var running = await StreamedReply.SendAsync(tenant.Http, "/v1/chat/completions",
            """{"model":"shared-key","stream":true,"messages":[{"role":"user","content":"The first question"}]}""", "shared");
        Assert.NotNull(await running.NextAsync());

        // Same agent and key, so the same session, which is still empty: it is the running request's, not a stray one.
        var reused = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"shared-key","messages":[{"role":"user","content":"Another question"}]}""", "shared");
        AssertError(reused, (HttpStatusCode)StatusCodes.Status422UnprocessableEntity, "invalid_request_error", "idempotency_key_reused", null);
        release.SetResult();

        Assert.Equal("[DONE]", (await running.RestAsync())[^1].Data);
        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        Assert.Equal(2, session["messageCount"]!.GetValue<int>());
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_streamed_completion_is_role_then_content_deltas_then_stop_then_usage_then_done()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "streamer");

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"streamer","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Tell me about the red planet"}]}""");

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        Assert.Equal("text/event-stream", reply.ContentType);
        var events = ServerSentEvents(reply.Text);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>());
            Assert.Equal("vendor-a", c["model"]!.GetValue<string>());
            Assert.Equal(chunks[0]["id"]!.GetValue<string>(), c["id"]!.GetValue<string>());
        });

        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        var contentChunks = chunks.Skip(1).TakeWhile(c => c["choices"]!.AsArray().Count == 1 && c["choices"]![0]!["finish_reason"] is null).ToList();
        Assert.True(contentChunks.Count > 1, "the reply should arrive in several deltas");
        var text = string.Concat(contentChunks.Select(c => c["choices"]![0]!["delta"]!["content"]!.GetValue<string>()));
        var request = Assert.Single(_fixture.Providers.Requests);
        Assert.Equal(FakeProviders.Result(request).Text, text);

        var finish = chunks[contentChunks.Count + 1];
        Assert.Equal("stop", finish["choices"]![0]!["finish_reason"]!.GetValue<string>());
        var usage = chunks[^1];
        Assert.Equal(contentChunks.Count + 3, chunks.Count);
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(FakeProviders.TokensIn(request) + FakeProviders.DefaultTokensOut, usage["usage"]!["total_tokens"]!.GetValue<int>());
        Assert.All(chunks[..^1], c => Assert.Null(c["usage"]));
    }

    [Fact]
    public async Task Without_include_usage_a_stream_has_no_usage_chunk()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "streamer");

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"streamer","stream":true,"messages":[{"role":"user","content":"Hello there"}]}""");

        var events = ServerSentEvents(reply.Text);
        Assert.Equal("[DONE]", events[^1]);
        var last = JsonNode.Parse(events[^2])!;
        Assert.Equal("stop", last["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.All(events[..^1], e => Assert.False(JsonNode.Parse(e)!.AsObject().ContainsKey("usage")));
    }

    [Fact]
    public async Task The_same_key_and_body_replays_byte_identically_and_as_a_stream_when_asked_with_one_charge()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "idem");
        const string body = """{"model":"idem","messages":[{"role":"user","content":"Count the moons of Mars"}]}""";

        var first = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions", body, "openai-key-1");
        var second = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions", body, "openai-key-1");
        var streamed = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"idem","stream":true,"messages":[{"role":"user","content":"Count the moons of Mars"}]}""", "openai-key-1");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.False(first.Replayed);
        Assert.True(second.Replayed);
        Assert.Equal(first.Body, second.Body);
        Assert.True(streamed.Replayed);
        var chunks = ServerSentEvents(streamed.Text)[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal(first.Json["id"]!.GetValue<string>(), c["id"]!.GetValue<string>()));
        Assert.Equal(first.Json["choices"]![0]!["message"]!["content"]!.GetValue<string>(),
            string.Concat(chunks.Select(c => c["choices"]!.AsArray().Count == 0 ? null : c["choices"]![0]!["delta"]!["content"]?.GetValue<string>())));
        Assert.Equal(1, _fixture.Providers.Calls);

        var different = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"idem","messages":[{"role":"user","content":"Count the moons of Jupiter"}]}""", "openai-key-1");
        AssertError(different, (HttpStatusCode)StatusCodes.Status422UnprocessableEntity, "invalid_request_error", "idempotency_key_reused", null);
        Assert.Equal(1, _fixture.Providers.Calls);

        // The key belongs to the first request: another agent gets no session from it.
        var other = await tenant.CreateAgentAsync(name: "other");
        var otherAgent = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"other","messages":[{"role":"user","content":"Count the moons of Mars"}]}""", "openai-key-1");
        AssertError(otherAgent, (HttpStatusCode)StatusCodes.Status422UnprocessableEntity, "invalid_request_error", "idempotency_key_reused", null);
        Assert.Empty((await tenant.GetOkAsync($"/sessions?agentId={other}")).AsArray());

        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        Assert.Equal(2, session["messageCount"]!.GetValue<int>());
        var sessionId = session["id"]!.GetValue<Guid>();
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(sessionId).Count > 0);
        await Task.Delay(500);
        Assert.Single(_fixture.Events.ForSession(sessionId));
    }

    [Fact]
    public async Task Without_a_key_every_completion_is_its_own_session_and_a_bad_key_is_400()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "fresh");

        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(tenant, "fresh")).Status);
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(tenant, "fresh")).Status);
        Assert.Equal(2, (await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray().Count);
        Assert.Equal(2, _fixture.Providers.Calls);

        var badKey = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"fresh","messages":[{"role":"user","content":"hi"}]}""", new string('k', 256));
        AssertError(badKey, HttpStatusCode.BadRequest, "invalid_request_error", "invalid_idempotency_key", null);
    }

    [Fact]
    public async Task Providers_failing_is_502_and_unreachable_is_503_with_retry_after_and_nothing_is_kept()
    {
        var tenant = _fixture.NewTenant();
        var agent = await tenant.CreateAgentAsync(name: "fragile");
        _fixture.Providers.Reset(FakeProviders.FailEveryAttempt([new ProviderAttempt("VendorA", AttemptOutcomes.Error, 500, 10)]));

        var failed = await CompleteAsync(tenant, "fragile", stream: true);
        AssertError(failed, HttpStatusCode.BadGateway, "server_error", "providers_failed", null);

        _fixture.Providers.Reset((_, _) => Task.FromResult<IResult>(TypedResults.StatusCode(StatusCodes.Status500InternalServerError)));
        var unavailable = await CompleteAsync(tenant, "fragile");
        AssertError(unavailable, HttpStatusCode.ServiceUnavailable, "server_error", "providers_unavailable", null);
        Assert.Equal("1", unavailable.RetryAfter);

        Assert.Empty((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray());

        // With a key the session stays for the retry, which succeeds with the same key.
        var withKey = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"fragile","messages":[{"role":"user","content":"again"}]}""", "retry-me");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, withKey.Status);
        _fixture.Providers.Reset();
        var retried = await tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            """{"model":"fragile","messages":[{"role":"user","content":"again"}]}""", "retry-me");
        Assert.Equal(HttpStatusCode.OK, retried.Status);
        Assert.False(retried.Replayed);
        var session = Assert.Single((await tenant.GetOkAsync($"/sessions?agentId={agent}")).AsArray())!;
        Assert.Equal(2, session["messageCount"]!.GetValue<int>());
    }

    private static Task<Reply> CompleteAsync(TenantClient tenant, string model, bool stream = false) =>
        tenant.SendAsync(HttpMethod.Post, "/v1/chat/completions",
            new JsonObject
            {
                ["model"] = model,
                ["stream"] = stream,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" }),
            }.ToJsonString());

    private static void AssertError(Reply reply, HttpStatusCode status, string type, string? code, string? param)
    {
        Assert.True(reply.Status == status, $"expected {(int)status}, got {(int)reply.Status}: {reply.Text}");
        Assert.Equal("application/json", reply.ContentType);
        var error = reply.Json["error"]!;
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.Equal(code, error["code"]?.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }

    /// <summary>The data of each event; every event is one <c>data:</c> line followed by a blank line.</summary>
    private static List<string> ServerSentEvents(string text)
    {
        Assert.EndsWith("\n\n", text);
        var events = text[..^2].Split("\n\n");
        return events.Select(e =>
        {
            Assert.StartsWith("data: ", e);
            Assert.DoesNotContain('\n', e);
            return e["data: ".Length..];
        }).ToList();
    }
}
