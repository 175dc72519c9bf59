using System.Text;
using System.Text.Json;
using StitchFin.Conversation.OpenAi;

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
    public async Task A_failure_after_the_first_byte_ends_the_stream_with_an_error_event_and_no_done()
    {
        var completion = new ChatCompletion("chatcmpl-test", 1_800_000_000, "m", "never fully sent", 3, 4);
        using var body = new MemoryStream();

        var failure = await ChatCompletionStreamResult.WriteEventsAsync(body, completion, FailingDeltas(), includeUsage: false, CancellationToken.None);

        Assert.IsType<InvalidOperationException>(failure);
        var events = Encoding.UTF8.GetString(body.ToArray()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, events.Length);
        Assert.Equal("assistant", JsonDocument.Parse(events[0]["data: ".Length..]).RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var error = JsonDocument.Parse(events[2]["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("stream_interrupted", error.GetProperty("code").GetString());
        Assert.DoesNotContain(events, e => e.Contains("[DONE]", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stream_that_completes_ends_with_done()
    {
        var completion = new ChatCompletion("chatcmpl-test", 1_800_000_000, "m", "all of it", 3, 4);
        using var body = new MemoryStream();

        var failure = await ChatCompletionStreamResult.WriteEventsAsync(body, completion, ContentDeltas.Split(completion.Content), includeUsage: true, CancellationToken.None);

        Assert.Null(failure);
        Assert.EndsWith("\n\ndata: [DONE]\n\n", Encoding.UTF8.GetString(body.ToArray()));
    }

    private static IEnumerable<string> FailingDeltas()
    {
        yield return "never ";
        throw new InvalidOperationException("the reply could not be read");
    }
}
