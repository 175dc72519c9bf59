using System.Buffers;
using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;

namespace StitchFin.ServiceDefaults.OpenAi;

/// <summary>What identifies one chat completion in every object and chunk of it.</summary>
public readonly record struct ChatCompletionHeader(string Id, long Created, string Model);

/// <summary>Tokens as OpenAI counts them: <see cref="CachedPromptTokens"/> are the part of the prompt read from the upstream's cache.</summary>
public sealed record ChatUsage(int PromptTokens, int CompletionTokens, int CachedPromptTokens = 0)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// What one upstream object (a whole <c>chat.completion</c> or one <c>chat.completion.chunk</c>) says, reduced to
/// what a relay needs: the model, the text (a whole message or a delta), tool calls (whole, or pieces of them to join
/// by index), the finish reason, usage, or an error.
/// </summary>
public sealed record ChatPiece(
    string? Model, string? Content, string? FinishReason, ChatUsage? Usage, ChatError? Error, IReadOnlyList<ToolCallPiece>? ToolCalls = null);

/// <summary>A tool call, or a piece of one in a stream (its id and name come first, its arguments in fragments).</summary>
public sealed record ToolCallPiece(int Index, string? Id, string? Name, string? Arguments);

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

    /// <summary>
    /// A request body: the system prompt (when there is one), then the conversation's turns as messages (assistant
    /// turns with their tool calls, tool turns with the call they answer), the tools and the generation options.
    /// </summary>
    public static byte[] Request(
        string model, string systemPrompt, IReadOnlyList<ChatTurn> turns, IReadOnlyList<ToolDefinition>? tools, GenerationOptions? options, bool stream) =>
        Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            json.WriteStartArray("messages");
            if (systemPrompt.Length > 0)
            {
                WriteMessage(json, ChatRoles.System, systemPrompt);
            }

            foreach (var turn in turns)
            {
                WriteTurn(json, turn);
            }

            json.WriteEndArray();
            if (tools is { Count: > 0 })
            {
                json.WriteStartArray("tools");
                foreach (var tool in tools)
                {
                    json.WriteStartObject();
                    json.WriteString("type", "function");
                    json.WriteStartObject("function");
                    json.WriteString("name", tool.Name);
                    if (tool.Description is not null)
                    {
                        json.WriteString("description", tool.Description);
                    }

                    if (tool.Parameters is { } parameters)
                    {
                        json.WritePropertyName("parameters");
                        parameters.WriteTo(json);
                    }

                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            WriteOptions(json, options);
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
    public static void WriteCompletion(
        Utf8JsonWriter json, ChatCompletionHeader header, string content, string finishReason, ChatUsage? usage, IReadOnlyList<ToolCall>? toolCalls = null)
    {
        json.WriteStartObject();
        WriteHeader(json, header, "chat.completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        if (content.Length == 0 && toolCalls is { Count: > 0 })
        {
            json.WriteNull("content");
        }
        else
        {
            json.WriteString("content", content);
        }

        json.WriteNull("refusal");
        if (toolCalls is { Count: > 0 })
        {
            WriteToolCalls(json, toolCalls, indexed: false);
        }

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

    /// <summary>A <c>chat.completion.chunk</c> whose delta holds whole tool calls, each with its index.</summary>
    public static void WriteToolCallsChunk(Utf8JsonWriter json, ChatCompletionHeader header, IReadOnlyList<ToolCall> toolCalls, bool usageNull)
    {
        json.WriteStartObject();
        WriteHeader(json, header, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        WriteToolCalls(json, toolCalls, indexed: true);
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteNull("finish_reason");
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
    /// Reads a chunk or a whole completion in one forward pass over its UTF-8 bytes (no document is built). False when
    /// the data is not a JSON object of that shape: a malformed event is skipped, never forwarded.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> json, out ChatPiece piece)
    {
        piece = null!;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            string? model = null, content = null, finishReason = null;
            ChatUsage? usage = null;
            ChatError? error = null;
            List<ToolCallPiece>? toolCalls = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var ok = true;
                if (reader.ValueTextEquals("model"u8))
                {
                    ok = reader.Read() && TryString(ref reader, out model);
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    ok = reader.Read() && TryReadChoices(ref reader, ref content, ref finishReason, ref toolCalls);
                }
                else if (reader.ValueTextEquals("usage"u8))
                {
                    ok = reader.Read() && (reader.TokenType == JsonTokenType.Null || TryReadUsage(ref reader, out usage));
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    ok = reader.Read() && TryReadError(ref reader, out error);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }

                if (!ok)
                {
                    return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return false;
            }

            piece = error is not null ? new ChatPiece(null, null, null, null, error) : new ChatPiece(model, content, finishReason, usage, null, toolCalls);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>An error body's error object, and a <c>retryAfterMs</c> beside it when the upstream sends one.</summary>
    public static (ChatError? Error, int? RetryAfterMs) ReadError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }

            ChatError? error = null;
            int? retryAfterMs = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isError = reader.ValueTextEquals("error"u8);
                var isRetryAfter = reader.ValueTextEquals("retryAfterMs"u8);
                reader.Read();
                if (isError)
                {
                    TryReadError(ref reader, out error);
                }
                else if (isRetryAfter && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var ms) && ms >= 0)
                {
                    retryAfterMs = ms;
                }
                else
                {
                    reader.Skip();
                }
            }

            return (error, retryAfterMs);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>The first choice's text (a delta's or a message's) and finish reason; further choices are skipped.</summary>
    private static bool TryReadChoices(ref Utf8JsonReader reader, ref string? content, ref string? finishReason, ref List<ToolCallPiece>? toolCalls)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first)
            {
                reader.Skip();
                continue;
            }

            first = false;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var ok = true;
                if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
                {
                    ok = reader.Read() && TryReadMessage(ref reader, ref content, ref toolCalls);
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    string? finish = null;
                    ok = reader.Read() && TryString(ref reader, out finish);
                    finishReason = finish ?? finishReason;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }

                if (!ok)
                {
                    return false;
                }
            }
        }

        return reader.TokenType == JsonTokenType.EndArray;
    }

    private static bool TryReadMessage(ref Utf8JsonReader reader, ref string? content, ref List<ToolCallPiece>? toolCalls)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                if (!reader.Read() || !TryString(ref reader, out var text))
                {
                    return false;
                }

                content = text ?? content;
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                if (!reader.Read() || !TryReadToolCalls(ref reader, ref toolCalls))
                {
                    return false;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    /// <summary><c>tool_calls</c>: whole calls (a message) or pieces of them (a delta), each with its index.</summary>
    private static bool TryReadToolCalls(ref Utf8JsonReader reader, ref List<ToolCallPiece>? toolCalls)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        var position = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            int? index = null;
            string? id = null, name = null, arguments = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    if (!reader.Read() || !reader.TryGetInt32(out var value))
                    {
                        return false;
                    }

                    index = value;
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    if (!reader.Read() || !TryString(ref reader, out id))
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("function"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                    {
                        return false;
                    }

                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isName = reader.ValueTextEquals("name"u8);
                        var isArguments = reader.ValueTextEquals("arguments"u8);
                        reader.Read();
                        if (isName && !TryString(ref reader, out name) || isArguments && !TryString(ref reader, out arguments))
                        {
                            return false;
                        }

                        if (!isName && !isArguments)
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            (toolCalls ??= []).Add(new ToolCallPiece(index ?? position, id, name, arguments));
            position++;
        }

        return true;
    }

    private static bool TryReadUsage(ref Utf8JsonReader reader, out ChatUsage? usage)
    {
        usage = null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        int? prompt = null, completion = null;
        var cached = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isPrompt = reader.ValueTextEquals("prompt_tokens"u8);
            var isCompletion = reader.ValueTextEquals("completion_tokens"u8);
            var isPromptDetails = reader.ValueTextEquals("prompt_tokens_details"u8);
            reader.Read();
            if (isPromptDetails && reader.TokenType == JsonTokenType.StartObject)
            {
                cached = CachedTokens(ref reader);
            }
            else if (isPrompt || isCompletion)
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var tokens) || tokens < 0)
                {
                    return false;
                }

                if (isPrompt)
                {
                    prompt = tokens;
                }
                else
                {
                    completion = tokens;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (prompt is null || completion is null)
        {
            return false;
        }

        usage = new ChatUsage(prompt.Value, completion.Value, Math.Min(cached, prompt.Value));
        return true;
    }

    /// <summary><c>prompt_tokens_details.cached_tokens</c>; details an upstream words otherwise count as none cached.</summary>
    private static int CachedTokens(ref Utf8JsonReader reader)
    {
        var cached = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isCached = reader.ValueTextEquals("cached_tokens"u8);
            reader.Read();
            if (isCached && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var tokens) && tokens > 0)
            {
                cached = tokens;
            }
            else
            {
                reader.Skip();
            }
        }

        return cached;
    }

    private static bool TryReadError(ref Utf8JsonReader reader, out ChatError? error)
    {
        error = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                error = new ChatError(reader.GetString()!, null, null, null);
                return true;
            case JsonTokenType.StartObject:
                string? message = null, type = null, code = null, param = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString();
                    reader.Read();
                    var value = reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                        _ => null,
                    };
                    reader.Skip();
                    switch (name)
                    {
                        case "message": message = value; break;
                        case "type": type = value; break;
                        case "code": code = value; break;
                        case "param": param = value; break;
                    }
                }

                error = new ChatError(message ?? "The provider reported an error.", type, code, param);
                return true;
            default:
                // "error": null is no error.
                reader.Skip();
                return true;
        }
    }

    private static bool TryString(ref Utf8JsonReader reader, out string? value)
    {
        value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
    }

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
        if (usage.CachedPromptTokens > 0)
        {
            json.WriteStartObject("prompt_tokens_details");
            json.WriteNumber("cached_tokens", usage.CachedPromptTokens);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary><c>tool_calls</c> as a message holds them; a stream's delta also numbers them (<c>index</c>).</summary>
    private static void WriteToolCalls(Utf8JsonWriter json, IReadOnlyList<ToolCall> calls, bool indexed)
    {
        json.WriteStartArray("tool_calls");
        for (var i = 0; i < calls.Count; i++)
        {
            json.WriteStartObject();
            if (indexed)
            {
                json.WriteNumber("index", i);
            }

            json.WriteString("id", calls[i].Id);
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", calls[i].Name);
            json.WriteString("arguments", calls[i].Arguments);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteTurn(Utf8JsonWriter json, ChatTurn turn)
    {
        json.WriteStartObject();
        json.WriteString("role", turn.Role);
        if (turn.Role == ChatRoles.Assistant && turn.ToolCalls is { Count: > 0 } calls)
        {
            if (turn.Text.Length == 0)
            {
                json.WriteNull("content");
            }
            else
            {
                json.WriteString("content", turn.Text);
            }

            WriteToolCalls(json, calls, indexed: false);
        }
        else
        {
            json.WriteString("content", turn.Text);
        }

        if (turn.ToolCallId is not null)
        {
            json.WriteString("tool_call_id", turn.ToolCallId);
        }

        json.WriteEndObject();
    }

    private static void WriteOptions(Utf8JsonWriter json, GenerationOptions? options)
    {
        if (options is null)
        {
            return;
        }

        if (options.MaxOutputTokens is { } maxTokens)
        {
            json.WriteNumber("max_tokens", maxTokens);
        }

        if (options.Temperature is { } temperature)
        {
            json.WriteNumber("temperature", temperature);
        }

        if (options.TopP is { } topP)
        {
            json.WriteNumber("top_p", topP);
        }

        if (options.Stop is { Count: > 0 } stop)
        {
            json.WriteStartArray("stop");
            foreach (var sequence in stop)
            {
                json.WriteStringValue(sequence);
            }

            json.WriteEndArray();
        }

        switch (options.ToolChoice)
        {
            case { Mode: ToolChoice.Function, Name: { } name }:
                json.WriteStartObject("tool_choice");
                json.WriteString("type", "function");
                json.WriteStartObject("function");
                json.WriteString("name", name);
                json.WriteEndObject();
                json.WriteEndObject();
                break;
            case { Mode: var mode }:
                json.WriteString("tool_choice", mode);
                break;
        }
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
