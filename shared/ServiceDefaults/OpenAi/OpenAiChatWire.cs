using System.Buffers;
using System.Text.Json;

namespace StitchFin.ServiceDefaults.OpenAi;

/// <summary>What identifies one chat completion in every object and chunk of it.</summary>
public readonly record struct ChatCompletionHeader(string Id, long Created, string Model);

public sealed record ChatUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// What one upstream object (a whole <c>chat.completion</c> or one <c>chat.completion.chunk</c>) says, reduced to
/// what a relay needs: the model, the text (a whole message or a delta), the finish reason, usage, or an error.
/// </summary>
public sealed record ChatPiece(string? Model, string? Content, string? FinishReason, ChatUsage? Usage, ChatError? Error);

/// <summary>An OpenAI-shaped error object.</summary>
public sealed record ChatError(string Message, string? Type, string? Code, string? Param);

/// <summary>
/// OpenAI's chat completions wire format, written with <see cref="Utf8JsonWriter"/> and read with
/// <see cref="JsonDocument"/>: the one place that knows it, for the upstream adapter, the simulated vendors and the
/// gateway's own <c>/v1</c> API.
/// </summary>
public static class OpenAiChatWire
{
    public const string Done = "[DONE]";

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A request body: the system prompt (when there is one) and the user's content as two messages.</summary>
    public static byte[] Request(string model, string systemPrompt, string userContent, bool stream) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("model", model);
        json.WriteStartArray("messages");
        if (systemPrompt.Length > 0)
        {
            WriteMessage(json, "system", systemPrompt);
        }

        WriteMessage(json, "user", userContent);
        json.WriteEndArray();
        json.WriteBoolean("stream", stream);
        if (stream)
        {
            json.WriteStartObject("stream_options");
            json.WriteBoolean("include_usage", true);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    });

    /// <summary>A whole <c>chat.completion</c>.</summary>
    public static void WriteCompletion(Utf8JsonWriter json, ChatCompletionHeader header, string content, string finishReason, ChatUsage? usage)
    {
        json.WriteStartObject();
        WriteHeader(json, header, "chat.completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", content);
        json.WriteNull("refusal");
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        if (usage is not null)
        {
            WriteUsage(json, usage);
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// A <c>chat.completion.chunk</c> with one choice: the role, a content delta, or the finish. With
    /// <paramref name="usageNull"/> it carries <c>"usage": null</c>, as OpenAI writes every chunk but the last when
    /// usage was asked for.
    /// </summary>
    public static void WriteChunk(Utf8JsonWriter json, ChatCompletionHeader header, string? role, string? content, string? finishReason, bool usageNull)
    {
        json.WriteStartObject();
        WriteHeader(json, header, "chat.completion.chunk");
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
        if (finishReason is null)
        {
            json.WriteNull("finish_reason");
        }
        else
        {
            json.WriteString("finish_reason", finishReason);
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (usageNull)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    /// <summary>The last chunk of a stream that asked for usage: no choices, the usage.</summary>
    public static void WriteUsageChunk(Utf8JsonWriter json, ChatCompletionHeader header, ChatUsage usage)
    {
        json.WriteStartObject();
        WriteHeader(json, header, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteUsage(json, usage);
        json.WriteEndObject();
    }

    /// <summary><c>{"error":{"message","type","param","code"}}</c>, as OpenAI clients parse it.</summary>
    public static void WriteError(Utf8JsonWriter json, string message, string? type, string? param, string? code)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", message);
        WriteNullable(json, "type", type);
        WriteNullable(json, "param", param);
        WriteNullable(json, "code", code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>
    /// Reads a chunk or a whole completion. False when the data is not a JSON object of that shape (a malformed event
    /// is skipped, never forwarded).
    /// </summary>
    public static bool TryRead(ReadOnlyMemory<byte> data, out ChatPiece piece) => TryRead(() => JsonDocument.Parse(data), out piece);

    public static bool TryRead(string data, out ChatPiece piece) => TryRead(() => JsonDocument.Parse(data), out piece);

    /// <summary>An error body's error object, and a <c>retryAfterMs</c> beside it when the upstream sends one.</summary>
    public static (ChatError? Error, int? RetryAfterMs) ReadError(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            int? retryAfterMs = root.TryGetProperty("retryAfterMs", out var wait) && wait.TryGetInt32(out var ms) && ms >= 0 ? ms : null;
            return (ReadErrorObject(root), retryAfterMs);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static bool TryRead(Func<JsonDocument> parse, out ChatPiece piece)
    {
        piece = null!;
        try
        {
            using var document = parse();
            return TryRead(document.RootElement, out piece);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool TryRead(JsonElement root, out ChatPiece piece)
    {
        piece = null!;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (ReadErrorObject(root) is { } error)
        {
            piece = new ChatPiece(null, null, null, null, error);
            return true;
        }

        string? model = null, content = null, finishReason = null;
        ChatUsage? usage = null;
        if (root.TryGetProperty("model", out var modelElement))
        {
            if (modelElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                return false;
            }

            model = modelElement.GetString();
        }

        if (root.TryGetProperty("choices", out var choices))
        {
            if (choices.ValueKind != JsonValueKind.Array)
            {
                return false;
            }

            if (choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                if (choice.ValueKind != JsonValueKind.Object)
                {
                    return false;
                }

                // A chunk carries a delta, a whole completion a message; either may hold the text.
                var body = choice.TryGetProperty("delta", out var delta) ? delta
                    : choice.TryGetProperty("message", out var message) ? message : default;
                if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("content", out var text))
                {
                    if (text.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    {
                        return false;
                    }

                    content = text.GetString();
                }

                if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
                {
                    finishReason = finish.GetString();
                }
            }
        }

        if (root.TryGetProperty("usage", out var usageElement) && usageElement.ValueKind == JsonValueKind.Object)
        {
            if (!(usageElement.TryGetProperty("prompt_tokens", out var prompt) && prompt.TryGetInt32(out var promptTokens) && promptTokens >= 0
                  && usageElement.TryGetProperty("completion_tokens", out var completion) && completion.TryGetInt32(out var completionTokens) && completionTokens >= 0))
            {
                return false;
            }

            usage = new ChatUsage(promptTokens, completionTokens);
        }

        piece = new ChatPiece(model, content, finishReason, usage, null);
        return true;
    }

    private static ChatError? ReadErrorObject(JsonElement root)
    {
        if (!root.TryGetProperty("error", out var error))
        {
            return null;
        }

        return error.ValueKind switch
        {
            JsonValueKind.Object => new ChatError(
                StringOrNull(error, "message") ?? "The provider reported an error.",
                StringOrNull(error, "type"),
                StringOrNull(error, "code"),
                StringOrNull(error, "param")),
            JsonValueKind.String => new ChatError(error.GetString()!, null, null, null),
            _ => null,
        };
    }

    private static string? StringOrNull(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    private static void WriteHeader(Utf8JsonWriter json, ChatCompletionHeader header, string objectType)
    {
        json.WriteString("id", header.Id);
        json.WriteString("object", objectType);
        json.WriteNumber("created", header.Created);
        json.WriteString("model", header.Model);
        json.WriteNull("system_fingerprint");
    }

    private static void WriteUsage(Utf8JsonWriter json, ChatUsage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.PromptTokens);
        json.WriteNumber("completion_tokens", usage.CompletionTokens);
        json.WriteNumber("total_tokens", usage.TotalTokens);
        json.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter json, string role, string content)
    {
        json.WriteStartObject();
        json.WriteString("role", role);
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
