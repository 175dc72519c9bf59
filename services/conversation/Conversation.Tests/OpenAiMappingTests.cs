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
        Assert.Equal("Hello\nthere", PromptMapping.UserContent([new ChatMessage("user", "Hello\nthere")]));
    }

    [Fact]
    public void Earlier_messages_precede_the_last_user_message_as_role_lines_and_developer_reads_as_system()
    {
        var content = PromptMapping.UserContent(
        [
            new ChatMessage("developer", "Use metric units."),
            new ChatMessage("system", "Be brief."),
            new ChatMessage("user", "How far is Mars?"),
            new ChatMessage("assistant", "About 225 million km."),
            new ChatMessage("user", "And the Moon?"),
        ]);

        Assert.Equal("system: Use metric units.\nsystem: Be brief.\nuser: How far is Mars?\nassistant: About 225 million km.\nAnd the Moon?", content);
    }

    [Fact]
    public void Parse_reads_model_messages_text_parts_and_stream_options()
    {
        using var document = JsonDocument.Parse("""
            {"model":"m","stream":true,"stream_options":{"include_usage":true},"n":1,"max_tokens":5,
             "messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"name":"x"}]}
            """);

        var (request, error) = ChatCompletionRequest.Parse(document.RootElement);

        Assert.Null(error);
        Assert.Equal("m", request!.Model);
        Assert.Equal([new ChatMessage("user", "a\nb")], request.Messages);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
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
