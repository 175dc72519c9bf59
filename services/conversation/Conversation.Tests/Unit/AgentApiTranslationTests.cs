using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.OpenAi;
using StitchFin.Conversation.Translation;

namespace StitchFin.Conversation.Tests.Unit;

/// <summary>
/// The three agent APIs' request shapes read into the one conversation model the exchange and the upstreams use:
/// each row is one conversation written as a chat completion, a response and an Anthropic message, and all three
/// must give the same turns, tools and options.
/// </summary>
public sealed class AgentApiTranslationTests
{
    public static TheoryData<string, string, string, string, Expected> Conversations => new()
    {
        {
            "instructions and a question",
            """{"model":"m","max_tokens":100,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"How far is Mars?"}]}""",
            """{"model":"m","max_output_tokens":100,"instructions":"Be brief.","input":"How far is Mars?"}""",
            """{"model":"m","max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"How far is Mars?"}]}""",
            new Expected([new ChatTurn(ChatRoles.System, "Be brief."), new ChatTurn(ChatRoles.User, "How far is Mars?")], null, new GenerationOptions(100))
        },
        {
            "an earlier exchange, text parts and sampling",
            """
            {"model":"m","max_tokens":20,"temperature":0.5,"top_p":0.9,"messages":[
              {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]},
              {"role":"assistant","content":"Hello."},{"role":"user","content":"And now?"}]}
            """,
            """
            {"model":"m","max_output_tokens":20,"temperature":0.5,"top_p":0.9,"input":[
              {"role":"user","content":[{"type":"input_text","text":"Hi"},{"type":"input_text","text":"there"}]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello."}]},{"role":"user","content":"And now?"}]}
            """,
            """
            {"model":"m","max_tokens":20,"temperature":0.5,"top_p":0.9,"messages":[
              {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]},
              {"role":"assistant","content":"Hello."},{"role":"user","content":"And now?"}]}
            """,
            new Expected(
                [new ChatTurn(ChatRoles.User, "Hi\nthere"), new ChatTurn(ChatRoles.Assistant, "Hello."), new ChatTurn(ChatRoles.User, "And now?")],
                null, new GenerationOptions(20, 0.5, 0.9))
        },
        {
            "a tool call and its result",
            """
            {"model":"m","max_tokens":50,"tool_choice":"required",
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object"}}}],
             "messages":[{"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"sunny"}]}
            """,
            """
            {"model":"m","max_output_tokens":50,"tool_choice":"required",
             "tools":[{"type":"function","name":"get_weather","description":"Weather now","parameters":{"type":"object"}}],
             "input":[{"role":"user","content":"Weather in Paris?"},
              {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
              {"type":"function_call_output","call_id":"call_1","output":"sunny"}]}
            """,
            """
            {"model":"m","max_tokens":50,"tool_choice":{"type":"any"},
             "tools":[{"name":"get_weather","description":"Weather now","input_schema":{"type":"object"}}],
             "messages":[{"role":"user","content":"Weather in Paris?"},
              {"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}]},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"sunny"}]}]}
            """,
            new Expected(
                [
                    new ChatTurn(ChatRoles.User, "Weather in Paris?"),
                    new ChatTurn(ChatRoles.Assistant, "", [new ToolCall("call_1", "get_weather", """{"city":"Paris"}""")]),
                    new ChatTurn(ChatRoles.Tool, "sunny", ToolCallId: "call_1"),
                ],
                [new ToolDefinition("get_weather", "Weather now", JsonDocument.Parse("""{"type":"object"}""").RootElement)],
                new GenerationOptions(50, ToolChoice: new ToolChoice(ToolChoice.Required)))
        },
        {
            "a named tool the model must call",
            """
            {"model":"m","max_tokens":8,"tool_choice":{"type":"function","function":{"name":"lookup"}},
             "tools":[{"type":"function","function":{"name":"lookup"}}],"messages":[{"role":"user","content":"Find it"}]}
            """,
            """
            {"model":"m","max_output_tokens":8,"tool_choice":{"type":"function","name":"lookup"},
             "tools":[{"type":"function","name":"lookup"}],"input":"Find it"}
            """,
            """
            {"model":"m","max_tokens":8,"tool_choice":{"type":"tool","name":"lookup"},
             "tools":[{"name":"lookup","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"Find it"}]}
            """,
            new Expected(
                [new ChatTurn(ChatRoles.User, "Find it")],
                [new ToolDefinition("lookup", null, null)],
                new GenerationOptions(8, ToolChoice: new ToolChoice(ToolChoice.Function, "lookup")))
        },
    };

    [Theory]
    [MemberData(nameof(Conversations))]
    public void Every_agent_api_reads_the_same_conversation_into_the_same_turns_tools_and_options(
        string conversation, string chatCompletion, string response, string anthropicMessage, Expected expected)
    {
        using var chatJson = JsonDocument.Parse(chatCompletion);
        using var responseJson = JsonDocument.Parse(response);
        using var anthropicJson = JsonDocument.Parse(anthropicMessage);
        var (chat, chatError) = ChatCompletionRequest.Parse(chatJson.RootElement);
        var (responses, responsesError) = OpenAiResponsesRequest.Parse(responseJson.RootElement);
        var (anthropic, anthropicError) = AnthropicMessages.Parse(anthropicJson.RootElement);
        Assert.True(chatError is null, $"{conversation}: {chatError?.Message}");
        Assert.True(responsesError is null, $"{conversation}: {responsesError?.Message}");
        Assert.True(anthropicError is null, $"{conversation}: {anthropicError}");

        Assert.Equal(expected.Turns(), Canonical(chat!.Turns));
        Assert.Equal(expected.Turns(), Canonical(responses!.Turns([])));
        Assert.Equal(expected.Turns(), Canonical(anthropic!.Turns));

        // Anthropic requires an input schema, so a tool defined without one has the empty object schema there.
        Assert.Equal(expected.Tools(), Canonical(chat.Tools));
        Assert.Equal(expected.Tools(), Canonical(responses.Tools));
        Assert.Equal(expected.Tools(ignoreSchema: true), Canonical(anthropic.Tools?.Select(t => t with { Parameters = null }).ToList()));

        Assert.Equal(expected.Options(), Canonical(chat.Options));
        Assert.Equal(expected.Options(), Canonical(responses.Options));
        Assert.Equal(expected.Options(), Canonical(anthropic.Options));
    }

    // Records holding lists compare their lists by reference; their JSON compares what they say.
    private static string Canonical<T>(T value) => JsonSerializer.Serialize(value, StitchFin.ServiceDefaults.Extensions.JsonOptions);

    public sealed record Expected(IReadOnlyList<ChatTurn> TurnList, IReadOnlyList<ToolDefinition>? ToolList, GenerationOptions OptionValues)
    {
        public string Turns() => Canonical(TurnList);

        public string Tools(bool ignoreSchema = false) =>
            Canonical(ignoreSchema ? ToolList?.Select(t => t with { Parameters = null }).ToList() : ToolList);

        public string Options() => Canonical(OptionValues);

        public override string ToString() => Turns();
    }
}
