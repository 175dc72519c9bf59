using StitchFin.Contracts.Providers;
using StitchFin.Providers.Upstreams;
using StitchFin.ServiceDefaults.Anthropic;
using StitchFin.ServiceDefaults.OpenAi;
using static StitchFin.Providers.Tests.Support.ProtocolHarness;

namespace StitchFin.Providers.Tests.Protocols;

/// <summary>The common model to Anthropic's Messages API and back, without I/O: each case one row of the mapping.</summary>
public sealed class AnthropicMessagesProtocolTests
{
    private static readonly AnthropicMessagesProtocol Protocol = new();

    private static readonly ToolCall Call = new("toolu_1", "get_weather", """{"city":"Paris"}""");

    /// <summary>Name, request, the provider's DefaultMaxTokens, the body Anthropic gets (streamed).</summary>
    private static readonly Dictionary<string, (NormalizedRequest Request, int? DefaultMaxTokens, string Body)> Requests = new()
    {
        ["the system prompt is top-level and max_tokens defaults to 4096"] = (
            new NormalizedRequest("Be brief.", "Hi"), null,
            """{"model":"m-1","max_tokens":4096,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"stream":true}"""),
        ["no system prompt, no system field; the provider's default limit"] = (
            new NormalizedRequest("", "Hi"), 1000,
            """{"model":"m-1","max_tokens":1000,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"stream":true}"""),
        ["system turns join the agent's prompt at the top, in order"] = (
            new NormalizedRequest("Agent.", "", [new ChatTurn(ChatRoles.System, "Client."), new ChatTurn(ChatRoles.User, "Q"), new ChatTurn(ChatRoles.System, "Later.")]), null,
            """{"model":"m-1","max_tokens":4096,"system":"Agent.\n\nClient.\n\nLater.","messages":[{"role":"user","content":[{"type":"text","text":"Q"}]}],"stream":true}"""),
        ["a tool round trip: tool_use in the assistant's message, tool_result first in the next user message"] = (
            new NormalizedRequest("", "", [
                new ChatTurn(ChatRoles.User, "Weather?"),
                new ChatTurn(ChatRoles.Assistant, "Checking.", [Call]),
                new ChatTurn(ChatRoles.Tool, "18 C", ToolCallId: "toolu_1"),
                new ChatTurn(ChatRoles.User, "Thanks"),
            ]), null,
            """
            {"model":"m-1","max_tokens":4096,"messages":[
              {"role":"user","content":[{"type":"text","text":"Weather?"}]},
              {"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"18 C"},{"type":"text","text":"Thanks"}]}],"stream":true}
            """),
        ["two tool outputs share one user message; arguments that are no object are {}; empty text is left out"] = (
            new NormalizedRequest("", "", [
                new ChatTurn(ChatRoles.User, "Both?"),
                new ChatTurn(ChatRoles.Assistant, "", [new ToolCall("a", "f", "[1]"), new ToolCall("b", "g", "")]),
                new ChatTurn(ChatRoles.Tool, "one", ToolCallId: "a"),
                new ChatTurn(ChatRoles.Tool, "", ToolCallId: "b"),
            ]), null,
            """
            {"model":"m-1","max_tokens":4096,"messages":[
              {"role":"user","content":[{"type":"text","text":"Both?"}]},
              {"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}},{"type":"tool_use","id":"b","name":"g","input":{}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"one"},{"type":"tool_result","tool_use_id":"b"}]}],"stream":true}
            """),
        ["tools, one forced tool, the sampling options and stop sequences"] = (
            new NormalizedRequest("", "Q", [new ChatTurn(ChatRoles.User, "Q")], [Tool("get_weather"), Tool("no_schema", null)],
                new GenerationOptions(200, 0.2, 0.9, ["END", "STOP"], new ToolChoice(ToolChoice.Function, "get_weather"))), null,
            """
            {"model":"m-1","max_tokens":200,"messages":[{"role":"user","content":[{"type":"text","text":"Q"}]}],
             "tools":[{"name":"get_weather","description":"The get_weather tool.","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},
                      {"name":"no_schema","description":"The no_schema tool.","input_schema":{"type":"object","properties":{}}}],
             "tool_choice":{"type":"tool","name":"get_weather"},"temperature":0.2,"top_p":0.9,"stop_sequences":["END","STOP"],"stream":true}
            """),
        ["required is any"] = (
            new NormalizedRequest("", "Q", [new ChatTurn(ChatRoles.User, "Q")], [Tool("t")], new GenerationOptions(ToolChoice: new ToolChoice(ToolChoice.Required))), null,
            """{"model":"m-1","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Q"}]}],"tools":[{"name":"t","description":"The t tool.","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":{"type":"any"},"stream":true}"""),
        ["none and auto keep their names"] = (
            new NormalizedRequest("", "Q", [new ChatTurn(ChatRoles.User, "Q")], [Tool("t")], new GenerationOptions(ToolChoice: new ToolChoice(ToolChoice.None))), null,
            """{"model":"m-1","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Q"}]}],"tools":[{"name":"t","description":"The t tool.","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":{"type":"none"},"stream":true}"""),
        ["a tool choice without tools is not sent"] = (
            new NormalizedRequest("", "Q", [new ChatTurn(ChatRoles.User, "Q")], null, new GenerationOptions(ToolChoice: new ToolChoice(ToolChoice.Auto))), null,
            """{"model":"m-1","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Q"}]}],"stream":true}"""),
    };

    public static TheoryData<string> RequestCases => [.. Requests.Keys];

    [Theory]
    [MemberData(nameof(RequestCases))]
    public void Requests_keep_every_fields_meaning(string name)
    {
        var (request, defaultMaxTokens, body) = Requests[name];

        AssertJson(body, RequestJson(Protocol, Target("anthropic", defaultMaxTokens: defaultMaxTokens), request));
    }

    [Fact]
    public void A_whole_reply_is_asked_for_without_a_stream()
    {
        Assert.False(RequestJson(Protocol, Target("anthropic"), new NormalizedRequest("", "Hi"), stream: false)["stream"]!.GetValue<bool>());
    }

    [Fact]
    public void The_key_goes_in_x_api_key_with_the_version_unless_one_is_configured()
    {
        using var plain = new HttpRequestMessage();
        Protocol.Authenticate(plain.Headers, Target("anthropic").Provider);
        using var configured = new HttpRequestMessage();
        configured.Headers.TryAddWithoutValidation("anthropic-version", "2099-01-01");
        Protocol.Authenticate(configured.Headers, Target("anthropic").Provider);

        Assert.Equal(["sk-k"], plain.Headers.GetValues("x-api-key"));
        Assert.Equal(["2023-06-01"], plain.Headers.GetValues("anthropic-version"));
        Assert.Null(plain.Headers.Authorization);
        Assert.Equal(["2099-01-01"], configured.Headers.GetValues("anthropic-version"));
    }

    public static TheoryData<string, string, string, int, int, int, int> Wholes => new()
    {
        // json, text, finish reason, prompt tokens, completion tokens, cached tokens, tool calls
        { """{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hi."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5}}""", "Hi.", "stop", 10, 5, 0, 0 },
        { """{"type":"message","content":[{"type":"text","text":"A"},{"type":"thinking","thinking":"hm"},{"type":"text","text":"B"}],"stop_reason":"max_tokens","usage":{"input_tokens":3,"cache_read_input_tokens":12,"cache_creation_input_tokens":4,"output_tokens":5}}""", "AB", "length", 19, 5, 12, 0 },
        { """{"type":"message","content":[{"type":"text","text":"Let me see."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":8,"output_tokens":20}}""", "Let me see.", "tool_calls", 8, 20, 0, 1 },
        { """{"type":"message","content":[{"type":"text","text":"Done"}],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":1,"output_tokens":1}}""", "Done", "stop", 1, 1, 0, 0 },
        { """{"type":"message","content":[],"stop_reason":"refusal","usage":{"input_tokens":1,"output_tokens":0}}""", "", "content_filter", 1, 0, 0, 0 },
        { """{"type":"message","content":[{"type":"text","text":"x"}],"stop_reason":"model_context_window_exceeded","usage":{"input_tokens":1,"output_tokens":1}}""", "x", "length", 1, 1, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Wholes))]
    public void Whole_replies_are_read_for_text_tool_calls_finish_reason_and_usage(
        string json, string text, string finishReason, int promptTokens, int completionTokens, int cachedTokens, int toolCalls)
    {
        var piece = Whole(Protocol, json)!;

        Assert.Equal((text, finishReason), (piece.Content, piece.FinishReason));
        Assert.Equal(new ChatUsage(promptTokens, completionTokens, cachedTokens), piece.Usage);
        Assert.Equal(toolCalls, piece.ToolCalls?.Count ?? 0);
        Assert.Null(piece.Error);
    }

    [Fact]
    public void A_whole_tool_call_keeps_its_id_name_and_input()
    {
        var piece = Whole(Protocol, """{"type":"message","model":"claude-x","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use"}""")!;

        var call = Assert.Single(piece.ToolCalls!);
        Assert.Equal(("toolu_1", "get_weather", """{"city":"Paris"}"""), (call.Id, call.Name, call.Arguments));
        Assert.Equal("claude-x", piece.Model);
        Assert.Null(piece.Usage);
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", "overloaded_error", "Overloaded")]
    [InlineData("""{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}""", "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum")]
    public void An_error_body_is_an_error(string json, string type, string message)
    {
        var error = Whole(Protocol, json)!.Error!;

        Assert.Equal((type, message, null), (error.Type, error.Message, error.Code));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"type":"message"}""")]
    [InlineData("""{"type":"message","content":"text"}""")]
    [InlineData("[]")]
    public void A_body_that_is_no_message_is_not_read(string json) => Assert.Null(Whole(Protocol, json));

    [Fact]
    public void A_streamed_reply_is_read_from_its_blocks_with_the_usage_of_its_start_and_its_end()
    {
        var read = Read(Protocol,
            ("message_start", """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":5,"cache_read_input_tokens":12,"cache_creation_input_tokens":0,"output_tokens":1}}}"""),
            ("ping", """{"type":"ping"}"""),
            ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello "}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"world"}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}"""),
            ("message_stop", """{"type":"message_stop"}"""));

        Assert.Equal(("claude-x", "Hello world", "stop", true, 0), (read.Model, read.Text, read.FinishReason, read.Ended, read.Malformed));
        Assert.Equal(new ChatUsage(17, 7, 12), read.Usage);
        Assert.Empty(read.ToolCalls);
    }

    [Fact]
    public void A_streamed_tool_call_is_put_together_from_its_block_start_and_its_json_deltas()
    {
        var read = Read(Protocol,
            ("message_start", """{"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":9,"output_tokens":1}}}"""),
            ("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking."}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":0}"""),
            ("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Pa"}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}"""),
            ("content_block_stop", """{"type":"content_block_stop","index":1}"""),
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":30}}"""),
            ("message_stop", """{"type":"message_stop"}"""));

        Assert.Equal(("Checking.", "tool_calls"), (read.Text, read.FinishReason));
        Assert.Equal([new ToolCall("toolu_1", "get_weather", """{"city": "Paris"}""")], read.ToolCalls);
        Assert.Equal(new ChatUsage(9, 30), read.Usage);
    }

    [Fact]
    public void An_error_event_is_an_error_and_malformed_events_are_counted_not_read()
    {
        var read = Read(Protocol,
            ("message_start", """{"type":"message_start","message":{"model":"claude-x"}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"""),
            ("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"""),
            ("mystery", """{"no":"type"}"""),
            ("error", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""));

        Assert.Equal(3, read.Malformed);
        Assert.Equal(("overloaded_error", "Overloaded"), (read.Error?.Type, read.Error?.Message));
        Assert.False(read.Ended);
    }

    [Fact]
    public void A_message_delta_without_a_stop_reason_gives_no_finish_reason()
    {
        var read = Read(Protocol,
            ("message_delta", """{"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":3}}"""),
            ("message_stop", """{"type":"message_stop"}"""));

        Assert.True(read.Ended);
        Assert.Null(read.FinishReason);
    }

    [Theory]
    [InlineData("end_turn", false, "stop")]
    [InlineData("stop_sequence", false, "stop")]
    [InlineData("max_tokens", false, "length")]
    [InlineData("max_tokens", true, "length")]
    [InlineData("model_context_window_exceeded", false, "length")]
    [InlineData("tool_use", false, "tool_calls")]
    [InlineData("end_turn", true, "tool_calls")]
    [InlineData("refusal", false, "content_filter")]
    [InlineData("pause_turn", false, "stop")]
    [InlineData(null, false, "stop")]
    [InlineData("something_new", false, "stop")]
    public void Stop_reasons_map_to_finish_reasons(string? stopReason, bool calledTools, string finishReason) =>
        Assert.Equal(finishReason, AnthropicWire.FinishReason(stopReason, calledTools));

    [Theory]
    [InlineData("stop")]
    [InlineData("length")]
    [InlineData("tool_calls")]
    [InlineData("content_filter")]
    public void A_finish_reason_survives_the_round_trip_through_anthropics_words(string finishReason) =>
        Assert.Equal(finishReason, AnthropicWire.FinishReason(AnthropicWire.StopReason(finishReason, false), false));
}
