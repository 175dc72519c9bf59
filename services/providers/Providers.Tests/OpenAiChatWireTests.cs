using System.Text;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Tests;

/// <summary>Reading what upstreams send: chunks and whole completions as they come, and what is malformed.</summary>
public sealed class OpenAiChatWireTests
{
    public static TheoryData<string, string?, string?, string?, int?, int?> Readable => new()
    {
        // json, model, content, finish reason, prompt tokens, completion tokens
        { """{"id":"c","object":"chat.completion.chunk","model":"m1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""", "m1", "", null, null, null },
        { """{"model":"m1","choices":[{"index":0,"delta":{"content":"Hello "},"logprobs":null,"finish_reason":null}],"usage":null}""", "m1", "Hello ", null, null, null },
        { """{"model":"m1","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}""", "m1", null, "length", null, null },
        { """{"model":"m1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":0}}}""", "m1", null, null, 12, 5 },
        { """{"object":"chat.completion","model":"m2","choices":[{"index":0,"message":{"role":"assistant","content":"Whole.","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}""", "m2", "Whole.", "stop", 3, 2 },
        { """{"choices":[{"delta":{"content":"a","tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}},{"delta":{"content":"second choice is ignored"}}]}""", null, "a", null, null, null },
        { """{"choices":[{"delta":{"reasoning_content":"thinking","content":null}}]}""", null, null, null, null, null },
        { """{"model":null,"system_fingerprint":"fp","choices":[{"message":null,"finish_reason":"stop"}]}""", null, null, "stop", null, null },
    };

    public static TheoryData<string> Malformed =>
    [
        """{"id":"chatcmpl-broken","choices":[{"delta":{"content":"x""",
        """[{"choices":[]}]""",
        "\"just a string\"",
        """{"choices":{"delta":{"content":"x"}}}""",
        """{"choices":[{"delta":{"content":42}}]}""",
        """{"choices":[{"delta":"text"}]}""",
        """{"model":7,"choices":[]}""",
        """{"usage":{"prompt_tokens":"3","completion_tokens":1}}""",
        """{"usage":{"prompt_tokens":3}}""",
        """{"usage":{"prompt_tokens":-1,"completion_tokens":1}}""",
        """{"choices":[]} trailing""",
        "",
    ];

    [Theory]
    [MemberData(nameof(Readable))]
    public void Chunks_and_completions_are_read_for_their_text_model_finish_and_usage(
        string json, string? model, string? content, string? finishReason, int? promptTokens, int? completionTokens)
    {
        Assert.True(OpenAiChatWire.TryRead(Encoding.UTF8.GetBytes(json), out var piece));

        Assert.Equal((model, content, finishReason), (piece.Model, piece.Content, piece.FinishReason));
        Assert.Equal(promptTokens, piece.Usage?.PromptTokens);
        Assert.Equal(completionTokens, piece.Usage?.CompletionTokens);
        Assert.Null(piece.Error);
    }

    [Theory]
    [InlineData("""{"prompt_tokens":120,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":96,"audio_tokens":0}}""", 96)]
    [InlineData("""{"prompt_tokens":120,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":0}}""", 0)]
    [InlineData("""{"prompt_tokens":120,"completion_tokens":5,"prompt_tokens_details":null}""", 0)]
    [InlineData("""{"prompt_tokens":120,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":"96"}}""", 0)]
    [InlineData("""{"prompt_tokens_details":{"cached_tokens":500},"prompt_tokens":120,"completion_tokens":5}""", 120)]
    public void Cached_prompt_tokens_are_read_from_the_prompt_details_and_never_exceed_the_prompt(string usage, int cached)
    {
        Assert.True(OpenAiChatWire.TryRead(Encoding.UTF8.GetBytes($$"""{"choices":[],"usage":{{usage}}}"""), out var piece));

        Assert.Equal(new ChatUsage(120, 5, cached), piece.Usage);
        var written = OpenAiChatWire.Write(json => OpenAiChatWire.WriteUsageChunk(json, new ChatCompletionHeader("c", 1, "m"), piece.Usage!));
        Assert.True(OpenAiChatWire.TryRead(written, out var reread));
        Assert.Equal(piece.Usage, reread.Usage);
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_data_is_refused_not_half_read(string json)
    {
        Assert.False(OpenAiChatWire.TryRead(Encoding.UTF8.GetBytes(json), out _));
    }

    [Theory]
    [InlineData("""{"error":{"message":"Overloaded","type":"server_error","code":503,"param":null}}""", "Overloaded", "server_error", "503")]
    [InlineData("""{"error":"Something broke"}""", "Something broke", null, null)]
    [InlineData("""{"error":{"type":"invalid_request_error","code":"context_length_exceeded"}}""", "The provider reported an error.", "invalid_request_error", "context_length_exceeded")]
    public void An_error_in_a_stream_or_a_body_is_read_as_the_upstreams_error(string json, string message, string? type, string? code)
    {
        Assert.True(OpenAiChatWire.TryRead(Encoding.UTF8.GetBytes(json), out var piece));
        Assert.Equal((message, type, code), (piece.Error!.Message, piece.Error.Type, piece.Error.Code));

        var (error, _) = OpenAiChatWire.ReadError(Encoding.UTF8.GetBytes(json));
        Assert.Equal((message, type, code), (error!.Message, error.Type, error.Code));
    }

    [Fact]
    public void A_rate_limit_body_gives_its_wait_beside_the_error()
    {
        var (error, retryAfterMs) = OpenAiChatWire.ReadError("""{"error":{"message":"slow down","code":"rate_limit_exceeded"},"retryAfterMs":750}"""u8.ToArray());

        Assert.Equal(("slow down", "rate_limit_exceeded", 750), (error!.Message, error.Code, retryAfterMs));
        Assert.Equal((null, null), OpenAiChatWire.ReadError("<html>Bad gateway</html>"u8.ToArray()));
    }
}
