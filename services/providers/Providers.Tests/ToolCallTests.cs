using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Tests.Support;
using StitchFin.Testing.Upstream;

namespace StitchFin.Providers.Tests;

/// <summary>
/// Conversations with tools through the real adapter, against the fault-injecting upstream: what the upstream is sent
/// (the turns, the tools, the options) and the tool calls it answers with, streamed in pieces or whole.
/// </summary>
public sealed class ToolCallTests(UpstreamFaultFixture fixture) : IClassFixture<UpstreamFaultFixture>
{
    private static readonly ToolDefinition Weather = new(
        "get_weather", "The weather in a city.",
        JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""").RootElement);

    private static readonly UpstreamToolCall Call = new("call_1", "get_weather", """{"city":"Paris","unit":"celsius"}""");

    private UpstreamService Service => fixture.Service;

    private FaultyUpstream Upstream => fixture.Service.Upstream;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_reply_that_calls_a_tool_comes_back_with_the_call_whole_or_streamed_in_pieces(bool streamed)
    {
        var model = streamed ? "tools-stream" : "tools-whole";
        Upstream.Script(model, UpstreamStep.ToolCalls([Call], "Let me check. "));
        var request = Request(model) with
        {
            Tools = [Weather],
            Options = new GenerationOptions(MaxOutputTokens: 200, Temperature: 0.2, Stop: ["END"], ToolChoice: new ToolChoice(ToolChoice.Function, "get_weather")),
        };

        var result = streamed ? (await Service.StreamAsync(request)).Completed! : await Service.CompleteAsync(request);

        Assert.Equal("tool_calls", result.FinishReason);
        Assert.Equal("Let me check. ", result.Text);
        Assert.Equal([new ToolCall("call_1", "get_weather", Call.Arguments)], result.ToolCalls!);
        using var body = JsonDocument.Parse(Assert.Single(Upstream.RequestsFor(model)).Body);
        var root = body.RootElement;
        var tool = Assert.Single(root.GetProperty("tools").EnumerateArray());
        Assert.Equal("function", tool.GetProperty("type").GetString());
        Assert.Equal("get_weather", tool.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("city", tool.GetProperty("function").GetProperty("parameters").GetProperty("required")[0].GetString());
        Assert.Equal("get_weather", root.GetProperty("tool_choice").GetProperty("function").GetProperty("name").GetString());
        Assert.Equal((200, 0.2, "END"), (root.GetProperty("max_tokens").GetInt32(), root.GetProperty("temperature").GetDouble(), root.GetProperty("stop")[0].GetString()));
    }

    [Fact]
    public async Task A_tool_round_trip_sends_the_assistants_call_and_the_tools_output_as_turns()
    {
        Upstream.Script("tools-round-trip", UpstreamStep.Reply("It is 18 degrees in Paris."));
        var request = Request("tools-round-trip") with
        {
            Turns =
            [
                new ChatTurn(ChatRoles.User, "What is the weather in Paris?"),
                new ChatTurn(ChatRoles.Assistant, "", [new ToolCall("call_1", "get_weather", Call.Arguments)]),
                new ChatTurn(ChatRoles.Tool, """{"temperature":18}""", ToolCallId: "call_1"),
            ],
            Tools = [Weather],
        };

        var result = await Service.CompleteAsync(request);

        Assert.Equal("It is 18 degrees in Paris.", result.Text);
        Assert.Null(result.ToolCalls);
        using var body = JsonDocument.Parse(Assert.Single(Upstream.RequestsFor("tools-round-trip")).Body);
        var messages = body.RootElement.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["system", "user", "assistant", "tool"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(JsonValueKind.Null, messages[2].GetProperty("content").ValueKind);
        var call = Assert.Single(messages[2].GetProperty("tool_calls").EnumerateArray());
        Assert.Equal(("call_1", "get_weather", Call.Arguments),
            (call.GetProperty("id").GetString(), call.GetProperty("function").GetProperty("name").GetString(), call.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal(("call_1", """{"temperature":18}"""), (messages[3].GetProperty("tool_call_id").GetString(), messages[3].GetProperty("content").GetString()));
    }

    [Theory]
    [InlineData("""[{"role":"tool","text":"42"}]""", "turns")]
    [InlineData("""[{"role":"narrator","text":"Once upon a time"}]""", "turns")]
    [InlineData("""[]""", "turns")]
    public async Task Malformed_turns_are_400_validation_problems(string turns, string field)
    {
        var request = Request("never-called") with { Turns = JsonSerializer.Deserialize<ChatTurn[]>(turns, ServiceDefaults.Extensions.JsonOptions) };

        var problem = await Service.ValidationErrorsAsync(request);

        Assert.Contains(field, problem);
    }

    [Fact]
    public async Task Tools_with_bad_names_or_a_tool_choice_outside_them_are_400_validation_problems()
    {
        var badName = await Service.ValidationErrorsAsync(Request("never-called") with { Tools = [Weather with { Name = "get weather!" }] });
        var strayChoice = await Service.ValidationErrorsAsync(Request("never-called") with
        {
            Tools = [Weather],
            Options = new GenerationOptions(ToolChoice: new ToolChoice(ToolChoice.Function, "send_email")),
        });

        Assert.Contains("tools", badName);
        Assert.Contains("options", strayChoice);
    }

    private static CompletionRequest Request(string model) =>
        new(UpstreamService.Provider, null, "Be brief.", "What is the weather in Paris?", model);
}
