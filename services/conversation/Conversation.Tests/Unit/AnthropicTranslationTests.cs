using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Translation;
using StitchFin.ServiceDefaults.Anthropic;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Tests.Unit;

/// <summary>Anthropic's Messages API to the common model and back, without I/O.</summary>
public sealed class AnthropicTranslationTests
{
    private const string Weather = """{"name":"get_weather","description":"The weather in a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}""";

    [Fact]
    public void A_request_maps_system_messages_tools_and_options_to_the_common_model()
    {
        var request = Parse($$$"""
            {"model":"helper","max_tokens":256,"temperature":0.2,"top_p":0.9,"top_k":40,"stop_sequences":["END"],
             "metadata":{"user_id":"u-1"},"thinking":{"type":"enabled","budget_tokens":1024},"service_tier":"auto",
             "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Answer in French."}],
             "tools":[{{{Weather}}}],"tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},
             "messages":[
               {"role":"user","content":"What is the weather in Paris?"},
               {"role":"assistant","content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"},"caller":{"type":"direct"}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18 C"},{"type":"text","text":"sunny"}]},{"type":"text","text":"And tomorrow?"}]}]}
            """);

        Assert.Equal("helper", request.Model);
        Assert.False(request.Stream);
        Assert.Equal(
            [
                new ChatTurn(ChatRoles.System, "Be brief.\nAnswer in French."),
                new ChatTurn(ChatRoles.User, "What is the weather in Paris?"),
                new ChatTurn(ChatRoles.Assistant, "Let me look.", [new ToolCall("toolu_1", "get_weather", """{"city":"Paris"}""")]),
                new ChatTurn(ChatRoles.Tool, "18 C\nsunny", ToolCallId: "toolu_1"),
                new ChatTurn(ChatRoles.User, "And tomorrow?"),
            ],
            request.Turns, TurnComparer.Instance);
        var tool = Assert.Single(request.Tools!);
        Assert.Equal(("get_weather", "The weather in a city"), (tool.Name, tool.Description));
        Assert.Equal("object", tool.Parameters!.Value.GetProperty("type").GetString());
        Assert.Equal(256, request.Options.MaxOutputTokens);
        Assert.Equal(0.2, request.Options.Temperature);
        Assert.Equal(0.9, request.Options.TopP);
        Assert.Equal(["END"], request.Options.Stop!);
        Assert.Equal(new ToolChoice(ToolChoice.Function, "get_weather"), request.Options.ToolChoice);
        Assert.Equal(
            "system: Be brief.\nAnswer in French.\nuser: What is the weather in Paris?\nassistant: Let me look. [get_weather({\"city\":\"Paris\"})]\ntool: 18 C\nsunny\nAnd tomorrow?",
            request.Content());
    }

    [Theory]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"}]}""", "Hi")]
    [InlineData("""{"model":"m","max_tokens":9,"system":"","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}""", "Hi")]
    [InlineData("""{"model":"m","max_tokens":9,"system":"Be kind.","messages":[{"role":"user","content":"Hi"}]}""", "system: Be kind.\nHi")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":""},{"type":"text","text":"b"}]}]}""", "a\nb")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"},{"role":"user","content":"Bye"}]}""", "user: Hi\nassistant: Hello!\nBye")]
    public void The_content_is_the_conversation_as_one_text(string body, string content) =>
        Assert.Equal(content, Parse(body).Content());

    [Fact]
    public void A_user_message_of_tool_results_alone_ends_the_turns_with_tool_turns_in_order()
    {
        var request = Parse("""
            {"model":"m","max_tokens":9,"messages":[
              {"role":"user","content":"Two cities"},
              {"role":"assistant","content":[{"type":"tool_use","id":"a","name":"w","input":{}},{"type":"tool_use","id":"b","name":"w","input":{"city":"Oslo"},"caller":{"type":"direct"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"b","content":"cold"},{"type":"tool_result","tool_use_id":"a","is_error":true}]}]}
            """);

        Assert.Equal(
            [
                new ChatTurn(ChatRoles.User, "Two cities"),
                new ChatTurn(ChatRoles.Assistant, "", [new ToolCall("a", "w", "{}"), new ToolCall("b", "w", """{"city":"Oslo"}""")]),
                new ChatTurn(ChatRoles.Tool, "cold", ToolCallId: "b"),
                new ChatTurn(ChatRoles.Tool, "", ToolCallId: "a"),
            ],
            request.Turns, TurnComparer.Instance);
    }

    [Theory]
    [InlineData("""{"type":"auto"}""", ToolChoice.Auto, null)]
    [InlineData("""{"type":"any"}""", ToolChoice.Required, null)]
    [InlineData("""{"type":"none"}""", ToolChoice.None, null)]
    [InlineData("""{"type":"tool","name":"get_weather"}""", ToolChoice.Function, "get_weather")]
    public void Tool_choice_maps_to_the_common_modes(string choice, string mode, string? name)
    {
        var request = Parse($$"""{"model":"m","max_tokens":9,"tools":[{{Weather}}],"tool_choice":{{choice}},"messages":[{"role":"user","content":"Hi"}]}""");
        Assert.Equal(new ToolChoice(mode, name), request.Options.ToolChoice);
    }

    [Theory]
    [InlineData("""[1]""", "The request body must be a JSON object.")]
    [InlineData("""{"max_tokens":9,"messages":[{"role":"user","content":"Hi"}]}""", "model: Field required.")]
    [InlineData("""{"model":" ","max_tokens":9,"messages":[{"role":"user","content":"Hi"}]}""", "model: must be")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"Hi"}]}""", "max_tokens: Field required.")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"Hi"}]}""", "max_tokens: must be an integer")]
    [InlineData("""{"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"Hi"}]}""", "max_tokens: must be an integer")]
    [InlineData("""{"model":"m","max_tokens":9}""", "messages: Field required.")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[]}""", "messages: must contain at least one message.")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"system","content":"Hi"}]}""", "messages.0.role: must be")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user"}]}""", "messages.0.content: Field required.")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":""}]}""", "messages.0.content: must not be empty.")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[]}]}""", "messages.0.content: must not be empty.")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hel"}]}""", "messages.1.role: the last message must have role \"user\"")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]}""", "messages.0.content.0.type: content blocks of type 'image' are not supported")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}""", "'document' are not supported")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"}]},{"role":"user","content":"Go"}]}""", "messages.1.content.0.type: content blocks of type 'thinking' are not supported")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"text":"no type"}]}]}""", "messages.0.content.0.type: Field required.")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"w","input":{}}]}]}""", "tool_use blocks belong in assistant messages")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"x"}]}]}""", "unexpected tool_use_id found in tool_result blocks: a")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"w","input":{}}]},{"role":"user","content":"ignored the tool"}]}""", "tool_use ids were found without tool_result blocks immediately after: a")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"w","input":"x"}]},{"role":"user","content":"Go"}]}""", "messages.1.content.0.input: must be an object.")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"w","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"image","source":{}}]}]}]}""", "messages.2.content.0.content.0.type: content blocks of type 'image' are not supported")]
    [InlineData("""{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"w","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","is_error":"yes"}]}]}""", "messages.2.content.0.is_error: must be a boolean.")]
    [InlineData("""{"model":"m","max_tokens":9,"system":{"text":"x"},"messages":[{"role":"user","content":"Hi"}]}""", "system: must be a string or an array of text blocks.")]
    [InlineData("""{"model":"m","max_tokens":9,"system":[{"type":"image"}],"messages":[{"role":"user","content":"Hi"}]}""", "system.0.type: content blocks of type 'image' are not supported")]
    [InlineData("""{"model":"m","max_tokens":9,"stream":"yes","messages":[{"role":"user","content":"Hi"}]}""", "stream: must be a boolean.")]
    [InlineData("""{"model":"m","max_tokens":9,"temperature":1.5,"messages":[{"role":"user","content":"Hi"}]}""", "temperature: must be a number between 0 and 1.")]
    [InlineData("""{"model":"m","max_tokens":9,"top_p":-0.1,"messages":[{"role":"user","content":"Hi"}]}""", "top_p: must be a number between 0 and 1.")]
    [InlineData("""{"model":"m","max_tokens":9,"stop_sequences":["a","b","c","d","e"],"messages":[{"role":"user","content":"Hi"}]}""", "stop_sequences: at most 4")]
    [InlineData("""{"model":"m","max_tokens":9,"stop_sequences":[1],"messages":[{"role":"user","content":"Hi"}]}""", "stop_sequences: must be an array of strings.")]
    [InlineData("""{"model":"m","max_tokens":9,"tools":[{"name":"bad name","input_schema":{}}],"messages":[{"role":"user","content":"Hi"}]}""", "tools.0.name: must be 1-64")]
    [InlineData("""{"model":"m","max_tokens":9,"tools":[{"name":"w"}],"messages":[{"role":"user","content":"Hi"}]}""", "tools.0.input_schema: must be a JSON schema object.")]
    [InlineData("""{"model":"m","max_tokens":9,"tools":[{"name":"w","input_schema":{}},{"name":"w","input_schema":{}}],"messages":[{"role":"user","content":"Hi"}]}""", "tools.1.name: tool names must be unique")]
    [InlineData("""{"model":"m","max_tokens":9,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"Hi"}]}""", "tools.0.type: server and built-in tools")]
    [InlineData("""{"model":"m","max_tokens":9,"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"Hi"}]}""", "tool_choice: \"any\" needs tools.")]
    [InlineData("""{"model":"m","max_tokens":9,"tools":[{"name":"w","input_schema":{}}],"tool_choice":{"type":"tool","name":"x"},"messages":[{"role":"user","content":"Hi"}]}""", "tool_choice.name: 'x' is not among the tools.")]
    [InlineData("""{"model":"m","max_tokens":9,"tool_choice":{"type":"sometimes"},"messages":[{"role":"user","content":"Hi"}]}""", "tool_choice.type: must be")]
    public void Bad_requests_say_which_field_is_wrong(string body, string message)
    {
        using var document = JsonDocument.Parse(body);
        var (request, error) = AnthropicMessages.Parse(document.RootElement);

        Assert.Null(request);
        Assert.NotNull(error);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_fingerprint_is_the_request_minus_stream_and_ignored_parameters()
    {
        const string messages = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
        var fingerprint = Parse($$"""{"model":"m","max_tokens":9,{{messages}}}""").Fingerprint();

        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
        foreach (var same in new[]
        {
            $$"""{"model":"m","max_tokens":9,"stream":true,{{messages}}}""",
            $$"""{"model":"another-name-for-the-agent","max_tokens":9,"metadata":{"user_id":"x"},"top_k":5,{{messages}}}""",
            $$"""{ "max_tokens" : 9 , {{messages}}, "model":"m" }""",
            $$"""{"model":"m","max_tokens":9,"system":"","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}""",
        })
        {
            Assert.Equal(fingerprint, Parse(same).Fingerprint());
        }

        foreach (var different in new[]
        {
            $$"""{"model":"m","max_tokens":10,{{messages}}}""",
            $$"""{"model":"m","max_tokens":9,"temperature":0.5,{{messages}}}""",
            $$"""{"model":"m","max_tokens":9,"stop_sequences":["x"],{{messages}}}""",
            $$"""{"model":"m","max_tokens":9,"system":"Be kind.",{{messages}}}""",
            $$"""{"model":"m","max_tokens":9,"tools":[{{Weather}}],{{messages}}}""",
            $$"""{"model":"m","max_tokens":9,"tools":[{{Weather}}],"tool_choice":{"type":"any"},{{messages}}}""",
            """{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"Hi!"}]}""",
        })
        {
            Assert.NotEqual(fingerprint, Parse(different).Fingerprint());
        }
    }

    [Theory]
    [InlineData("stop", false, "end_turn")]
    [InlineData("length", false, "max_tokens")]
    [InlineData("tool_calls", false, "tool_use")]
    [InlineData("stop", true, "tool_use")]
    [InlineData("content_filter", false, "refusal")]
    [InlineData(null, false, "end_turn")]
    [InlineData("something_new", false, "end_turn")]
    public void Finish_reasons_map_to_stop_reasons(string? finishReason, bool calledTools, string stopReason) =>
        Assert.Equal(stopReason, AnthropicWire.StopReason(finishReason, calledTools));

    [Theory]
    [InlineData("""{"city":"Paris"}""", """{"city":"Paris"}""")]
    [InlineData(""" {"a":[1,2]} """, """{"a":[1,2]}""")]
    [InlineData("", "{}")]
    [InlineData("[1]", "{}")]
    [InlineData("{\"city\":", "{}")]
    public void Tool_arguments_become_an_input_object(string arguments, string input) =>
        Assert.Equal(input, AnthropicWire.ToolInput(arguments));

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(409, "invalid_request_error")]
    [InlineData(413, "request_too_large")]
    [InlineData(422, "invalid_request_error")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(500, "api_error")]
    [InlineData(502, "api_error")]
    [InlineData(503, "overloaded_error")]
    [InlineData(504, "timeout_error")]
    public void Statuses_have_anthropics_error_types(int status, string type) =>
        Assert.Equal(type, AnthropicMessages.ErrorType(status));

    [Fact]
    public void A_stored_exchange_renders_as_a_message_object()
    {
        var assistantId = Guid.Parse("0193a1b2-0000-7000-8000-0000000000aa");
        var exchange = Exchange(assistantId, "Let me check.", "tool_calls", [new ToolCall("call_1", "get_weather", """{"city":"Paris"}""")]);

        var reply = AnthropicMessages.FromExchange(exchange, "requested");
        var json = Encoding.UTF8.GetString(AnthropicMessages.Message(reply));

        Assert.Equal(
            """{"id":"msg_0193a1b20000700080000000000000aa","type":"message","role":"assistant","model":"gpt-answered","content":["""
            + """{"type":"text","text":"Let me check."},{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"},"caller":{"type":"direct"}}],"""
            + "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,\"usage\":"
            + """{"input_tokens":17,"output_tokens":6,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}""",
            json);
    }

    [Fact]
    public void An_empty_text_is_left_out_of_the_content_and_a_plain_reply_ends_its_turn()
    {
        var toolsOnly = AnthropicMessages.FromExchange(Exchange(Guid.NewGuid(), "", "tool_calls", [new ToolCall("c", "f", "")]), "m");
        var plain = AnthropicMessages.FromExchange(Exchange(Guid.NewGuid(), "Hello.", "stop", null), "m");

        var content = JsonNode.Parse(AnthropicMessages.Message(toolsOnly))!["content"]!.AsArray();
        Assert.Equal("""[{"type":"tool_use","id":"c","name":"f","input":{},"caller":{"type":"direct"}}]""", content.ToJsonString());
        var message = JsonNode.Parse(AnthropicMessages.Message(plain))!;
        Assert.Equal("""[{"type":"text","text":"Hello."}]""", message["content"]!.ToJsonString());
        Assert.Equal("end_turn", message["stop_reason"]!.GetValue<string>());
    }

    [Fact]
    public void Stream_events_have_anthropics_shapes()
    {
        Assert.Equal(
            """{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}}""",
            Text(AnthropicMessages.MessageStart("msg_1", "m")));
        Assert.Equal("""{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""", Text(AnthropicMessages.TextBlockStart(0)));
        Assert.Equal("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}""", Text(AnthropicMessages.TextDelta(0, "Hi ")));
        Assert.Equal("""{"type":"content_block_stop","index":0}""", Text(AnthropicMessages.BlockStop(0)));
        Assert.Equal(
            """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_1","name":"f","input":{},"caller":{"type":"direct"}}}""",
            Text(AnthropicMessages.ToolUseBlockStart(1, new ToolCall("call_1", "f", """{"a":1}"""))));
        Assert.Equal(
            """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\u0022a\u0022:1}"}}""",
            Text(AnthropicMessages.InputJsonDelta(1, """{"a":1}""")));
        Assert.Equal(
            """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":3,"output_tokens":4}}""",
            Text(AnthropicMessages.MessageDelta("end_turn", 3, 4)));
        Assert.Equal("""{"type":"message_stop"}""", Text(AnthropicMessages.MessageStop()));
        Assert.Equal("""{"type":"error","error":{"type":"api_error","message":"Broken."}}""", Text(AnthropicMessages.Error("api_error", "Broken.")));
    }

    private static AnthropicRequest Parse(string body)
    {
        using var document = JsonDocument.Parse(body);
        var (request, error) = AnthropicMessages.Parse(document.RootElement);
        Assert.True(error is null, error);
        return request!;
    }

    private static byte[] Exchange(Guid assistantId, string text, string finishReason, IReadOnlyList<ToolCall>? toolCalls)
    {
        var at = DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var exchange = new JsonObject
        {
            ["userMessage"] = JsonSerializer.SerializeToNode(new TranscriptMessage(Guid.NewGuid(), "user", "Hi", Channels.Api, at), JsonDefaults.JsonOptions),
            ["assistantMessage"] = new JsonObject
            {
                ["id"] = assistantId,
                ["role"] = "assistant",
                ["content"] = text,
                ["channel"] = Channels.Api,
                ["createdAt"] = at,
                ["model"] = "gpt-answered",
                ["finishReason"] = finishReason,
                ["toolCalls"] = toolCalls is null ? null : JsonSerializer.SerializeToNode(toolCalls, JsonDefaults.JsonOptions),
            },
            ["usage"] = new JsonObject { ["provider"] = "Upstream", ["tokensIn"] = 17, ["tokensOut"] = 6, ["costUsd"] = 0.000029m, ["model"] = "gpt-answered" },
            ["attempts"] = new JsonArray(),
        };
        return Encoding.UTF8.GetBytes(exchange.ToJsonString());
    }

    private static string Text(byte[] json) => Encoding.UTF8.GetString(json);

    /// <summary>Turns compared by value, tool calls included (records compare lists by reference).</summary>
    private sealed class TurnComparer : IEqualityComparer<ChatTurn>
    {
        public static readonly TurnComparer Instance = new();

        public bool Equals(ChatTurn? x, ChatTurn? y) =>
            x is not null && y is not null && x.Role == y.Role && x.Text == y.Text && x.ToolCallId == y.ToolCallId
            && (x.ToolCalls ?? []).SequenceEqual(y.ToolCalls ?? []);

        public int GetHashCode(ChatTurn obj) => HashCode.Combine(obj.Role, obj.Text);
    }
}
