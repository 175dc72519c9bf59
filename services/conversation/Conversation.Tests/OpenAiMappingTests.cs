using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.OpenAi;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Conversation.Tests;

public sealed class OpenAiMappingTests
{
    [Fact]
    public void A_lone_user_message_is_the_content_as_it_is()
    {
        Assert.Equal("Hello\nthere", ConversationText.Flatten(Parse("""{"model":"m","messages":[{"role":"user","content":"Hello\nthere"}]}""").Turns));
    }

    [Fact]
    public void Earlier_messages_precede_the_last_user_message_as_role_lines_and_developer_reads_as_system()
    {
        var request = Parse("""
            {"model":"m","messages":[{"role":"developer","content":"Use metric units."},{"role":"system","content":"Be brief."},
             {"role":"user","content":"How far is Mars?"},{"role":"assistant","content":"About 225 million km."},{"role":"user","content":"And the Moon?"}]}
            """);

        Assert.Equal("system: Use metric units.\nsystem: Be brief.\nuser: How far is Mars?\nassistant: About 225 million km.\nAnd the Moon?",
            ConversationText.Flatten(request.Turns));
    }

    [Fact]
    public void Parse_reads_model_messages_text_parts_options_and_stream_options()
    {
        var request = Parse("""
            {"model":"m","stream":true,"stream_options":{"include_usage":true},"n":1,"max_tokens":5,"temperature":0.5,"stop":"END",
             "messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"name":"x"}]}
            """);

        Assert.Equal("m", request.Model);
        Assert.Equal([new ChatTurn("user", "a\nb")], request.Turns);
        Assert.Equal(new GenerationOptions(5, 0.5, null, null, null), request.Options with { Stop = null });
        Assert.Equal(["END"], request.Options.Stop!);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
    }

    [Fact]
    public void A_tool_round_trip_reads_the_assistants_calls_and_the_tool_message_that_answers_them()
    {
        var request = Parse("""
            {"model":"m","messages":[{"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"sunny"}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object"}}}],
             "tool_choice":{"type":"function","function":{"name":"get_weather"}},"max_completion_tokens":50,"max_tokens":9}
            """);

        Assert.Equal(3, request.Turns.Count);
        Assert.Equal(new ToolCall("call_1", "get_weather", """{"city":"Paris"}"""), Assert.Single(request.Turns[1].ToolCalls!));
        Assert.Equal(("tool", "sunny", "call_1"), (request.Turns[2].Role, request.Turns[2].Text, request.Turns[2].ToolCallId));
        var tool = Assert.Single(request.Tools!);
        Assert.Equal(("get_weather", "Weather now"), (tool.Name, tool.Description));
        Assert.Equal(new ToolChoice(ToolChoice.Function, "get_weather"), request.Options.ToolChoice);
        Assert.Equal(50, request.Options.MaxOutputTokens);
    }

    [Fact]
    public void The_fingerprint_covers_tools_and_options_but_not_stream()
    {
        const string Messages = """ "messages":[{"role":"user","content":"hi"}] """;
        var plain = Parse($$"""{"model":"m",{{Messages}}}""").Fingerprint();

        Assert.Equal(plain, Parse($$"""{"model":"m","stream":true,{{Messages}}}""").Fingerprint());
        Assert.NotEqual(plain, Parse($$"""{"model":"m","temperature":1,{{Messages}}}""").Fingerprint());
        Assert.NotEqual(plain, Parse($$$"""{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],{{{Messages}}}}""").Fingerprint());
    }

    private static ChatCompletionRequest Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var (request, error) = ChatCompletionRequest.Parse(document.RootElement);
        Assert.True(error is null, error?.Message);
        return request!;
    }

    [Theory]
    [InlineData("Hello brave  new\nworld ...")]
    [InlineData("  leading and trailing  ")]
    [InlineData("one")]
    [InlineData("")]
    public void Content_deltas_are_words_with_their_whitespace_and_add_up_to_the_reply(string reply)
    {
        var deltas = ContentDeltas.Split(reply).ToList();

        Assert.Equal(reply, string.Concat(deltas));
        Assert.All(deltas, d => Assert.NotEmpty(d));
        Assert.All(deltas.SkipLast(1), d => Assert.True(char.IsWhiteSpace(d[^1])));
    }

    [Fact]
    public async Task A_failure_after_the_first_chunk_ends_the_stream_with_an_error_event_and_no_done()
    {
        var (context, body) = Response();
        var stream = new ChatCompletionStream(context.Response, includeUsage: false, replayed: false);

        await stream.StartAsync(new ReplyStart(Guid.CreateVersion7(), DateTimeOffset.UnixEpoch.AddSeconds(1_800_000_000), "Local", "llama-3", false));
        await stream.DeltaAsync("never ");
        await stream.FailedAsync(new CompletionFailed("cut", [], CompletionFailureReasons.StreamFailed));

        var events = Events(body);
        Assert.Equal(3, events.Count);
        Assert.Equal("assistant", events[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("llama-3", events[0].GetProperty("model").GetString());
        Assert.Equal(1_800_000_000, events[0].GetProperty("created").GetInt64());
        Assert.Equal("never ", events[1].GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
        var error = events[2].GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(ChatCompletionStream.InterruptedCode, error.GetProperty("code").GetString());
        var text = Encoding.UTF8.GetString(body.ToArray());
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"finish_reason\":\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_that_completes_ends_with_the_finish_usage_and_done()
    {
        var (context, body) = Response();
        var stream = new ChatCompletionStream(context.Response, includeUsage: true, replayed: false);
        var assistantId = Guid.CreateVersion7();
        var exchange = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new MessageExchange(
            new TranscriptMessage(Guid.CreateVersion7(), "user", "hi", "api", DateTimeOffset.UnixEpoch),
            new TranscriptMessage(assistantId, "assistant", "all of it", "api", DateTimeOffset.UnixEpoch, "Local", false, 3, 4, 0.000011m, 5, "llama-3", "length", false),
            new MessageUsage("Local", 3, 4, 0.000011m, "llama-3"),
            []), StitchFin.ServiceDefaults.Extensions.JsonOptions);

        await stream.StartAsync(new ReplyStart(assistantId, DateTimeOffset.UnixEpoch, "Local", "llama-3", false));
        await stream.DeltaAsync("all of it");
        await stream.CompletedAsync(exchange);

        var events = Events(body);
        Assert.Equal("length", events[2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, events[2].GetProperty("usage").ValueKind);
        Assert.Equal(0, events[3].GetProperty("choices").GetArrayLength());
        Assert.Equal(7, events[3].GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.All(events, e => Assert.Equal($"chatcmpl-{assistantId:N}", e.GetProperty("id").GetString()));
        Assert.EndsWith("\n\ndata: [DONE]\n\n", Encoding.UTF8.GetString(body.ToArray()));
        Assert.Equal("text/event-stream", context.Response.ContentType);
    }

    private static (DefaultHttpContext Context, MemoryStream Body) Response()
    {
        var body = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Response.Body = body;
        return (context, body);
    }

    /// <summary>Every data line's JSON, <c>[DONE]</c> left out.</summary>
    private static List<JsonElement> Events(MemoryStream body) =>
        Encoding.UTF8.GetString(body.ToArray()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e != "data: [DONE]")
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement)
            .ToList();
}
