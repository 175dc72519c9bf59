using StitchFin.Contracts.Providers;
using StitchFin.Providers.Upstreams;
using StitchFin.ServiceDefaults.OpenAi;
using static StitchFin.Providers.Tests.Support.ProtocolHarness;

namespace StitchFin.Providers.Tests.Protocols;

/// <summary>The common model to OpenAI's Responses API and back, without I/O: each case one row of the mapping.</summary>
public sealed class OpenAiResponsesProtocolTests
{
    private static readonly OpenAiResponsesProtocol Protocol = new();

    /// <summary>Name, request, the body the Responses API gets (streamed).</summary>
    private static readonly Dictionary<string, (NormalizedRequest Request, string Body)> Requests = new()
    {
        ["the system prompt is the instructions; the request is stateless"] = (
            new NormalizedRequest("Be brief.", "Hi"),
            """{"model":"m-1","instructions":"Be brief.","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Hi"}]}],"stream":true,"store":false}"""),
        ["no system prompt, no instructions; a system turn keeps its place"] = (
            new NormalizedRequest("", "", [new ChatTurn(ChatRoles.System, "Client."), new ChatTurn(ChatRoles.User, "Q")]),
            """
            {"model":"m-1","input":[{"type":"message","role":"system","content":[{"type":"input_text","text":"Client."}]},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"Q"}]}],"stream":true,"store":false}
            """),
        ["a tool round trip: the assistant's text, its function_call items, the function_call_output"] = (
            new NormalizedRequest("", "", [
                new ChatTurn(ChatRoles.User, "Weather?"),
                new ChatTurn(ChatRoles.Assistant, "Checking.", [new ToolCall("call_1", "get_weather", """{"city":"Paris"}""")]),
                new ChatTurn(ChatRoles.Tool, "18 C", ToolCallId: "call_1"),
            ]),
            """
            {"model":"m-1","input":[
              {"type":"message","role":"user","content":[{"type":"input_text","text":"Weather?"}]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking."}]},
              {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
              {"type":"function_call_output","call_id":"call_1","output":"18 C"}],"stream":true,"store":false}
            """),
        ["an assistant turn that only calls tools has no message item"] = (
            new NormalizedRequest("", "", [new ChatTurn(ChatRoles.User, "Q"), new ChatTurn(ChatRoles.Assistant, "", [new ToolCall("c", "f", "{}")]), new ChatTurn(ChatRoles.Tool, "r", ToolCallId: "c")]),
            """
            {"model":"m-1","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Q"}]},
              {"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"r"}],"stream":true,"store":false}
            """),
        ["function tools are not strict, as in chat completions; one forced function; max_output_tokens; no stop"] = (
            new NormalizedRequest("", "Q", [new ChatTurn(ChatRoles.User, "Q")], [Tool("get_weather"), Tool("no_schema", null)],
                new GenerationOptions(200, 0.2, 0.9, ["END"], new ToolChoice(ToolChoice.Function, "get_weather"))),
            """
            {"model":"m-1","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Q"}]}],
             "tools":[{"type":"function","name":"get_weather","description":"The get_weather tool.","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":false},
                      {"type":"function","name":"no_schema","description":"The no_schema tool.","strict":false}],
             "max_output_tokens":200,"temperature":0.2,"top_p":0.9,"tool_choice":{"type":"function","name":"get_weather"},"stream":true,"store":false}
            """),
        ["required, none and auto are words"] = (
            new NormalizedRequest("", "Q", [new ChatTurn(ChatRoles.User, "Q")], null, new GenerationOptions(ToolChoice: new ToolChoice(ToolChoice.Required))),
            """{"model":"m-1","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Q"}]}],"tool_choice":"required","stream":true,"store":false}"""),
    };

    public static TheoryData<string> RequestCases => [.. Requests.Keys];

    [Theory]
    [MemberData(nameof(RequestCases))]
    public void Requests_keep_every_fields_meaning(string name)
    {
        var (request, body) = Requests[name];

        AssertJson(body, RequestJson(Protocol, Target("openai-responses"), request));
    }

    [Fact]
    public void The_api_has_no_stop_sequences_so_the_adapter_cuts_the_reply() => Assert.False(Protocol.StopsAtSequences);

    [Fact]
    public void The_key_is_a_bearer_token()
    {
        using var message = new HttpRequestMessage();
        Protocol.Authenticate(message.Headers, Target("openai-responses").Provider);

        Assert.Equal("Bearer sk-k", message.Headers.Authorization?.ToString());
    }

    public static TheoryData<string, string, string, int, int, int, int> Wholes => new()
    {
        // json, text, finish reason, input tokens, output tokens, cached tokens, tool calls
        {
            """{"id":"resp_1","object":"response","status":"completed","model":"gpt-x","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi ","annotations":[]},{"type":"output_text","text":"there."}]}],"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":5,"total_tokens":15}}""",
            "Hi there.", "stop", 10, 5, 4, 0
        },
        {
            """{"status":"completed","output":[{"type":"reasoning","summary":[]},{"type":"message","content":[{"type":"output_text","text":"Let me check."}]},{"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}],"usage":{"input_tokens":8,"output_tokens":20}}""",
            "Let me check.", "tool_calls", 8, 20, 0, 1
        },
        {
            """{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"Cut"}]}],"usage":{"input_tokens":1,"output_tokens":16}}""",
            "Cut", "length", 1, 16, 0, 0
        },
        {
            """{"status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[{"type":"message","content":[{"type":"refusal","refusal":"No."}]}],"usage":{"input_tokens":1,"output_tokens":1}}""",
            "", "content_filter", 1, 1, 0, 0
        },
    };

    [Theory]
    [MemberData(nameof(Wholes))]
    public void Whole_responses_are_read_for_text_tool_calls_finish_reason_and_usage(
        string json, string text, string finishReason, int inputTokens, int outputTokens, int cachedTokens, int toolCalls)
    {
        var piece = Whole(Protocol, json)!;

        Assert.Equal((text, finishReason), (piece.Content, piece.FinishReason));
        Assert.Equal(new ChatUsage(inputTokens, outputTokens, cachedTokens), piece.Usage);
        Assert.Equal(toolCalls, piece.ToolCalls?.Count ?? 0);
        Assert.Null(piece.Error);
    }

    [Fact]
    public void A_failed_response_is_an_error()
    {
        var error = Whole(Protocol, """{"status":"failed","error":{"code":"server_error","message":"Something broke."},"output":[]}""")!.Error!;

        Assert.Equal(("server_error", "Something broke."), (error.Code, error.Message));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"status":"completed"}""")]
    [InlineData("""{"status":"in_progress","output":[]}""")]
    [InlineData("""{"status":"queued","output":[]}""")]
    public void A_body_that_is_no_finished_response_is_not_read(string json) => Assert.Null(Whole(Protocol, json));

    [Fact]
    public void A_streamed_response_is_read_from_its_text_deltas_and_its_completed_event()
    {
        var read = Read(Protocol,
            ("response.created", """{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress","model":"gpt-x","output":[]}}"""),
            ("response.in_progress", """{"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_1","status":"in_progress","model":"gpt-x"}}"""),
            ("response.output_item.added", """{"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant","content":[]}}"""),
            ("response.content_part.added", """{"type":"response.content_part.added","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}}"""),
            ("response.output_text.delta", """{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello "}"""),
            ("response.output_text.delta", """{"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"world"}"""),
            ("response.output_text.done", """{"type":"response.output_text.done","sequence_number":6,"item_id":"msg_1","output_index":0,"content_index":0,"text":"Hello world"}"""),
            ("response.output_item.done", """{"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"id":"msg_1","type":"message","content":[{"type":"output_text","text":"Hello world"}]}}"""),
            ("response.completed", """{"type":"response.completed","sequence_number":8,"response":{"id":"resp_1","status":"completed","model":"gpt-x","output":[{"type":"message","content":[{"type":"output_text","text":"Hello world"}]}],"usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"total_tokens":14}}}"""),
            ("response.output_text.delta", """{"type":"response.output_text.delta","delta":"after the end"}"""));

        // The text comes from the deltas only: the completed response repeats it, and nothing after it counts.
        Assert.Equal(("gpt-x", "Hello world", "stop", true, 0), (read.Model, read.Text, read.FinishReason, read.Ended, read.Malformed));
        Assert.Equal(new ChatUsage(12, 2), read.Usage);
    }

    [Fact]
    public void A_streamed_function_call_is_put_together_from_its_item_and_its_argument_deltas()
    {
        var read = Read(Protocol,
            ("response.output_item.added", """{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"get_weather","arguments":""}}"""),
            ("response.function_call_arguments.delta", """{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{\"city\":"}"""),
            ("response.function_call_arguments.delta", """{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"\"Paris\"}"}"""),
            ("response.function_call_arguments.done", """{"type":"response.function_call_arguments.done","item_id":"fc_1","output_index":0,"arguments":"{\"city\":\"Paris\"}"}"""),
            ("response.completed", """{"type":"response.completed","response":{"status":"completed","output":[],"usage":{"input_tokens":3,"output_tokens":9}}}"""));

        Assert.Equal("tool_calls", read.FinishReason);
        Assert.Equal([new ToolCall("call_1", "get_weather", """{"city":"Paris"}""")], read.ToolCalls);
    }

    [Fact]
    public void An_incomplete_response_ends_the_stream_with_length()
    {
        var read = Read(Protocol,
            ("response.incomplete", """{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":3,"output_tokens":16}}}"""));

        Assert.Equal(("length", true), (read.FinishReason, read.Ended));
    }

    [Theory]
    [InlineData("response.failed", """{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"The model failed."}}}""", "server_error", "The model failed.")]
    [InlineData("error", """{"type":"error","code":"rate_limit_exceeded","message":"Slow down.","param":null}""", "rate_limit_exceeded", "Slow down.")]
    [InlineData("error", """{"type":"error","error":{"type":"server_error","code":"server_error","message":"Nested."}}""", "server_error", "Nested.")]
    public void A_failed_response_or_an_error_event_is_an_error(string type, string data, string code, string message)
    {
        var read = Read(Protocol, (type, data));

        Assert.Equal((code, message), (read.Error?.Code, read.Error?.Message));
        Assert.False(read.Ended);
    }

    [Theory]
    [InlineData("""{"type":"response.output_text.delta","delta":"x""")]
    [InlineData("""{"type":"response.output_text.delta"}""")]
    [InlineData("""{"type":"response.function_call_arguments.delta","delta":"x"}""")]
    [InlineData("""{"type":"response.completed","response":{"status":"in_progress"}}""")]
    [InlineData("""{"no":"type"}""")]
    [InlineData("[DONE]")]
    public void Malformed_events_are_counted_not_read(string data)
    {
        var read = Read(Protocol, ("message", data));

        Assert.Equal((1, false), (read.Malformed, read.Ended));
    }
}
