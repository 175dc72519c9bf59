using System.Text.Json;
using StitchFin.Contracts.Conversation;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// An answered completion, rendered from the exchange the idempotency store keeps. Rendering is a pure function of
/// the stored exchange and the requested model, so a replay is byte-identical to the first answer, as JSON or as
/// a stream.
/// </summary>
public sealed record ChatCompletion(string Id, long Created, string Model, string Content, int PromptTokens, int CompletionTokens)
{
    public const string FinishReason = "stop";

    public int TotalTokens => PromptTokens + CompletionTokens;

    public static ChatCompletion FromExchange(byte[] storedExchange, string model)
    {
        var exchange = JsonSerializer.Deserialize<MessageExchange>(storedExchange, JsonDefaults.JsonOptions)
            ?? throw new InvalidOperationException("The stored exchange is empty.");
        var assistant = exchange.AssistantMessage;
        return new ChatCompletion(
            $"chatcmpl-{assistant.Id:N}", assistant.CreatedAt.ToUnixTimeSeconds(), model, assistant.Content, exchange.Usage.TokensIn, exchange.Usage.TokensOut);
    }

    /// <summary>The <c>chat.completion</c> object.</summary>
    public byte[] ToJson() => Write(json =>
    {
        json.WriteStartObject();
        WriteHeader(json, "chat.completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", Content);
        json.WriteNull("refusal");
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", FinishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json);
        json.WriteEndObject();
    });

    /// <summary>A <c>chat.completion.chunk</c> with one choice: the role, a content delta, or the finish.</summary>
    public byte[] Chunk(string? role, string? content, bool finished, bool includeUsage) => Write(json =>
    {
        json.WriteStartObject();
        WriteHeader(json, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        if (role is not null)
        {
            json.WriteString("role", role);
        }

        if (content is not null)
        {
            json.WriteString("content", content);
        }

        json.WriteEndObject();
        json.WriteNull("logprobs");
        if (finished)
        {
            json.WriteString("finish_reason", FinishReason);
        }
        else
        {
            json.WriteNull("finish_reason");
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (includeUsage)
        {
            // OpenAI: with include_usage every chunk has "usage": null except the last one, which carries it.
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    });

    /// <summary>The final chunk of a stream with <c>stream_options.include_usage</c>: no choices, the usage.</summary>
    public byte[] UsageChunk() => Write(json =>
    {
        json.WriteStartObject();
        WriteHeader(json, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteUsage(json);
        json.WriteEndObject();
    });

    private void WriteHeader(Utf8JsonWriter json, string objectType)
    {
        json.WriteString("id", Id);
        json.WriteString("object", objectType);
        json.WriteNumber("created", Created);
        json.WriteString("model", Model);
        json.WriteNull("system_fingerprint");
    }

    private void WriteUsage(Utf8JsonWriter json)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", PromptTokens);
        json.WriteNumber("completion_tokens", CompletionTokens);
        json.WriteNumber("total_tokens", TotalTokens);
        json.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return buffer.ToArray();
    }
}
