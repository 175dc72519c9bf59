using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Tests.Infrastructure;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests;

/// <summary>The Responses API over agents, against the fake providers service: answers, streams, stored responses and chains.</summary>
public sealed class ResponsesApiTests : IClassFixture<ConversationFixture>
{
    private readonly ConversationFixture _fixture;

    public ResponsesApiTests(ConversationFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    [Fact]
    public async Task A_response_answers_with_the_agents_reply_and_repeats_the_requests_parameters()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "writer", systemPrompt: "Be brief.");

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/responses",
            """{"model":"writer","input":"Hello there","instructions":"Answer in French.","metadata":{"ticket":"42"},"temperature":0.3}""");

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        var response = reply.Json;
        Assert.StartsWith("resp_", response["id"]!.GetValue<string>());
        Assert.Equal(("response", "completed", "vendor-a"), (response["object"]!.GetValue<string>(), response["status"]!.GetValue<string>(), response["model"]!.GetValue<string>()));
        Assert.Equal(("Answer in French.", "42", 0.3), (response["instructions"]!.GetValue<string>(), response["metadata"]!["ticket"]!.GetValue<string>(), response["temperature"]!.GetValue<double>()));
        var message = Assert.Single(response["output"]!.AsArray())!;
        Assert.Equal(("message", "assistant", "completed"), (message["type"]!.GetValue<string>(), message["role"]!.GetValue<string>(), message["status"]!.GetValue<string>()));
        var request = Assert.Single(_fixture.Providers.Requests);
        Assert.Equal(FakeProviders.Result(request).Text, message["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(FakeProviders.TokensIn(request), response["usage"]!["input_tokens"]!.GetValue<int>());
        Assert.Equal(FakeProviders.DefaultTokensOut, response["usage"]!["output_tokens"]!.GetValue<int>());
        Assert.Equal([new ChatTurn("system", "Answer in French."), new ChatTurn("user", "Hello there")], request.Turns!);
        Assert.Equal("Be brief.", request.SystemPrompt);

        // Stored: reading it back gives the same object.
        var read = await tenant.GetOkAsync($"/v1/responses/{response["id"]}");
        Assert.True(JsonNode.DeepEquals(response, read), $"{response}\n{read}");
        var session = Assert.Single((await tenant.GetOkAsync("/sessions")).AsArray())!;
        Assert.Equal("Hello there", (await tenant.GetOkAsync($"/sessions/{session["id"]}/transcript"))["messages"]![0]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_chain_of_responses_sends_each_previous_turn_and_is_one_session()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "chatty");
        var first = await CreateOkAsync(tenant, """{"model":"chatty","input":"My name is Ada."}""");

        var second = await CreateOkAsync(tenant, $$"""{"model":"chatty","input":"What is my name?","previous_response_id":"{{first["id"]}}"}""");

        Assert.Equal(first["id"]!.GetValue<string>(), second["previous_response_id"]!.GetValue<string>());
        var requests = _fixture.Providers.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        var firstReply = first["output"]![0]!["content"]![0]!["text"]!.GetValue<string>();
        Assert.Equal(
            [new ChatTurn("user", "My name is Ada."), new ChatTurn("assistant", firstReply), new ChatTurn("user", "What is my name?")],
            requests[1].Turns!);
        var session = Assert.Single((await tenant.GetOkAsync("/sessions")).AsArray())!;
        Assert.Equal(4, session["messageCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_function_tool_round_trip_returns_the_call_and_sends_its_output_back()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "tooler");
        _fixture.Providers.Reset((request, _) => Task.FromResult<IResult>(TypedResults.Ok(
            FakeProviders.ToolCallResult(request, new ToolCall("call_7", "get_weather", """{"city":"Paris"}""")))));
        const string Tools = """[{"type":"function","name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]""";

        var first = await CreateOkAsync(tenant, $$"""{"model":"tooler","input":"Weather in Paris?","tools":{{Tools}}}""");

        var call = Assert.Single(first["output"]!.AsArray())!;
        Assert.Equal(("function_call", "call_7", "get_weather", """{"city":"Paris"}"""),
            (call["type"]!.GetValue<string>(), call["call_id"]!.GetValue<string>(), call["name"]!.GetValue<string>(), call["arguments"]!.GetValue<string>()));
        var firstRequest = Assert.Single(_fixture.Providers.Requests);
        Assert.Equal("get_weather", Assert.Single(firstRequest.Tools!).Name);

        _fixture.Providers.Reset();
        var second = await CreateOkAsync(tenant,
            $$"""{"model":"tooler","previous_response_id":"{{first["id"]}}","tools":{{Tools}},"input":[{"type":"function_call_output","call_id":"call_7","output":"{\"celsius\":18}"}]}""");

        Assert.Equal("message", second["output"]![0]!["type"]!.GetValue<string>());
        var turns = Assert.Single(_fixture.Providers.Requests).Turns!;
        Assert.Equal(3, turns.Count);
        Assert.Equal("call_7", Assert.Single(turns[1].ToolCalls!).Id);
        Assert.Equal(new ChatTurn("tool", """{"celsius":18}""", ToolCallId: "call_7"), turns[2]);
    }

    [Fact]
    public async Task A_streamed_response_numbers_its_events_keeps_its_ids_and_completes_as_stored()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "streamer");

        await using var reply = await StreamedReply.SendAsync(tenant.Http, "/v1/responses", """{"model":"streamer","input":"Tell me a story","stream":true}""", null);
        var events = await reply.RestAsync();

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var types = events.Select(e => e.EventType).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], types[..4]);
        Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"], types[^4..]);
        Assert.All(types[4..^4], t => Assert.Equal("response.output_text.delta", t));
        var data = events.Select(StreamedReply.Json).ToList();
        Assert.Equal(Enumerable.Range(0, events.Count), data.Select(d => d["sequence_number"]!.GetValue<int>()));
        Assert.All(events, e => Assert.Equal(e.EventType, JsonNode.Parse(e.Data)!["type"]!.GetValue<string>()));
        var responseId = data[0]["response"]!["id"]!.GetValue<string>();
        var itemId = data[2]["item"]!["id"]!.GetValue<string>();
        Assert.All(data.Where(d => d["response"] is not null), d => Assert.Equal(responseId, d["response"]!["id"]!.GetValue<string>()));
        Assert.All(data.Where(d => d["item_id"] is not null), d => Assert.Equal(itemId, d["item_id"]!.GetValue<string>()));
        var text = string.Concat(data.Where(d => d["delta"] is not null).Select(d => d["delta"]!.GetValue<string>()));
        Assert.Equal(text, data[^4]["text"]!.GetValue<string>());
        var completed = data[^1]["response"]!;
        Assert.Equal(text, completed["output"]![0]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(completed, await tenant.GetOkAsync($"/v1/responses/{responseId}")));
    }

    [Fact]
    public async Task A_stream_that_fails_after_it_began_ends_with_response_failed_and_keeps_nothing()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "fragile");
        _fixture.Providers.Reset((request, _) => Task.FromResult(FakeProviders.StreamThenFail(request, "Half ")));

        await using var reply = await StreamedReply.SendAsync(tenant.Http, "/v1/responses", """{"model":"fragile","input":"Go","stream":true}""", null);
        var events = await reply.RestAsync();

        Assert.Equal("response.failed", events[^1].EventType);
        Assert.DoesNotContain(events, e => e.EventType == "response.completed");
        var failed = StreamedReply.Json(events[^1])["response"]!;
        Assert.Equal("failed", failed["status"]!.GetValue<string>());
        Assert.NotNull(failed["error"]!["message"]);
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.SendAsync(HttpMethod.Get, $"/v1/responses/{failed["id"]}")).Status);
        Assert.Empty((await tenant.GetOkAsync("/sessions")).AsArray());
    }

    [Fact]
    public async Task Stored_responses_are_the_tenants_own_can_be_deleted_and_list_their_input()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "keeper");
        var response = await CreateOkAsync(tenant,
            """{"model":"keeper","input":[{"role":"developer","content":"Be kind."},{"role":"user","content":[{"type":"input_text","text":"Hi"}]}]}""");
        var id = response["id"]!.GetValue<string>();

        var items = await tenant.GetOkAsync($"/v1/responses/{id}/input_items");
        var ascending = await tenant.GetOkAsync($"/v1/responses/{id}/input_items?order=asc&limit=1");
        var other = _fixture.NewTenant();

        Assert.Equal(["user", "developer"], items["data"]!.AsArray().Select(i => i!["role"]!.GetValue<string>()));
        Assert.All(items["data"]!.AsArray(), i => Assert.StartsWith("msg_", i!["id"]!.GetValue<string>()));
        Assert.Equal("developer", Assert.Single(ascending["data"]!.AsArray())!["role"]!.GetValue<string>());
        Assert.True(ascending["has_more"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await other.SendAsync(HttpMethod.Get, $"/v1/responses/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.SendAsync(HttpMethod.Delete, $"/v1/responses/{id}")).Status);

        var deleted = await tenant.SendAsync(HttpMethod.Delete, $"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.True(deleted.Json["deleted"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.SendAsync(HttpMethod.Get, $"/v1/responses/{id}")).Status);
        var continued = await tenant.SendAsync(HttpMethod.Post, "/v1/responses", $$"""{"model":"keeper","input":"More","previous_response_id":"{{id}}"}""");
        Assert.Equal(HttpStatusCode.NotFound, continued.Status);
        Assert.Equal("previous_response_not_found", continued.Json["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_response_not_stored_cannot_be_read_or_continued_but_is_still_a_metered_exchange()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "ephemeral");

        var response = await CreateOkAsync(tenant, """{"model":"ephemeral","input":"Forget me","store":false}""");

        Assert.False(response["store"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.SendAsync(HttpMethod.Get, $"/v1/responses/{response["id"]}")).Status);
        var session = Assert.Single((await tenant.GetOkAsync("/sessions")).AsArray())!;
        await _fixture.Events.WaitUntilAsync(e => e.ForSession(session["id"]!.GetValue<Guid>()).Count > 0);
    }

    [Fact]
    public async Task The_same_key_and_request_replays_the_response_whole_or_as_a_stream()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "idem");
        const string Body = """{"model":"idem","input":"Once only"}""";

        var first = await tenant.SendAsync(HttpMethod.Post, "/v1/responses", Body, "resp-key");
        var second = await tenant.SendAsync(HttpMethod.Post, "/v1/responses", Body, "resp-key");
        await using var streamed = await StreamedReply.SendAsync(tenant.Http, "/v1/responses", """{"model":"idem","input":"Once only","stream":true}""", "resp-key");
        var events = await streamed.RestAsync();
        var different = await tenant.SendAsync(HttpMethod.Post, "/v1/responses", """{"model":"idem","input":"Twice"}""", "resp-key");

        Assert.Equal(first.Body, second.Body);
        Assert.True(second.Replayed);
        Assert.True(streamed.Replayed);
        Assert.True(JsonNode.DeepEquals(first.Json, StreamedReply.Json(events[^1])["response"]));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, different.Status);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Theory]
    [InlineData("""{"model":"checked"}""", "input", "missing_required_parameter")]
    [InlineData("""{"model":"checked","input":[]}""", "input", "empty_array")]
    [InlineData("""{"model":"checked","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]}""", "input[0].content[0]", "unsupported_content")]
    [InlineData("""{"model":"checked","input":[{"type":"reasoning","summary":[]}]}""", "input[0].type", "unsupported_input")]
    [InlineData("""{"model":"checked","input":"Hi","tools":[{"type":"web_search"}]}""", "tools[0].type", "unsupported_tool")]
    [InlineData("""{"model":"checked","input":"Hi","tool_choice":"required"}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"checked","input":"Hi","max_output_tokens":0}""", "max_output_tokens", "invalid_value")]
    [InlineData("""{"model":"checked","input":[{"role":"assistant","content":"I speak last"}]}""", "input", "invalid_value")]
    [InlineData("""{"model":"checked","input":"Hi","previous_response_id":"resp_unknown"}""", "previous_response_id", "previous_response_not_found")]
    [InlineData("""{"model":"checked","input":"Hi","background":true}""", "background", "unsupported_parameter")]
    [InlineData("""{"model":"checked","input":"Hi","conversation":"conv_1"}""", "conversation", "unsupported_parameter")]
    [InlineData("""{"model":"checked","input":[{"type":"function_call","call_id":"c1","name":"f"},{"role":"user","content":"Hi"}]}""", "input[0].arguments", "missing_required_parameter")]
    public async Task Bad_requests_are_openai_shaped_errors_naming_the_field(string body, string param, string code)
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "checked");

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/responses", body);

        Assert.True(reply.Status is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, reply.Text);
        Assert.Equal((param, code), (reply.Json["error"]!["param"]!.GetValue<string>(), reply.Json["error"]!["code"]!.GetValue<string>()));
        Assert.Equal(0, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_chain_continues_only_with_its_own_agent()
    {
        var tenant = _fixture.NewTenant();
        await tenant.CreateAgentAsync(name: "first-agent");
        await tenant.CreateAgentAsync(name: "second-agent");
        var first = await CreateOkAsync(tenant, """{"model":"first-agent","input":"Hi"}""");

        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/responses", $$"""{"model":"second-agent","input":"Hi","previous_response_id":"{{first["id"]}}"}""");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("model_mismatch", reply.Json["error"]!["code"]!.GetValue<string>());
    }

    private static async Task<JsonNode> CreateOkAsync(TenantClient tenant, string body)
    {
        var reply = await tenant.SendAsync(HttpMethod.Post, "/v1/responses", body);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
        return reply.Json;
    }
}
