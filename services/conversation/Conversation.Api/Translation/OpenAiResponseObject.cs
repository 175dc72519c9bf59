using System.Globalization;
using System.Text.Json;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.OpenAi;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Translation;

/// <summary>
/// An exchange as a Responses API <c>response</c> object: the same function renders the answer, each event of a stream
/// that carries the response, a replay and <c>GET /v1/responses/{id}</c>, so they never disagree. The response's id is
/// its assistant message's, its output that message's text and tool calls.
/// </summary>
public static class OpenAiResponseObject
{
    public const string Prefix = "resp_";

    /// <summary>Everything a response object says.</summary>
    public sealed record Rendering(
        Guid AssistantMessageId,
        DateTimeOffset CreatedAt,
        string Model,
        string Status,
        string Text,
        IReadOnlyList<ToolCall> ToolCalls,
        MessageUsage? Usage,
        string? FinishReason,
        JsonElement Parameters,
        string? PreviousResponseId,
        bool Store,
        string? ErrorMessage = null)
    {
        public string Id => ResponseId(AssistantMessageId);
    }

    public static string ResponseId(Guid assistantMessageId) => $"{Prefix}{assistantMessageId:N}";

    public static string MessageItemId(Guid assistantMessageId) => $"msg_{assistantMessageId:N}";

    public static string FunctionCallItemId(Guid assistantMessageId, int index) => $"fc_{assistantMessageId:N}_{index.ToString(CultureInfo.InvariantCulture)}";

    public static bool TryParseId(string id, out Guid assistantMessageId)
    {
        assistantMessageId = default;
        return id.StartsWith(Prefix, StringComparison.Ordinal) && Guid.TryParseExact(id[Prefix.Length..], "N", out assistantMessageId);
    }

    /// <summary>A completed (or, cut by its token limit, incomplete) response from the exchange the idempotency store keeps.</summary>
    public static Rendering FromExchange(byte[] storedExchange, JsonElement parameters, string? previousResponseId, bool store)
    {
        var exchange = JsonSerializer.Deserialize<MessageExchange>(storedExchange, JsonDefaults.JsonOptions)
            ?? throw new InvalidOperationException("The stored exchange is empty.");
        return FromAssistant(exchange.AssistantMessage, exchange.Usage, parameters, previousResponseId, store);
    }

    public static Rendering FromAssistant(TranscriptMessage assistant, MessageUsage usage, JsonElement parameters, string? previousResponseId, bool store) =>
        new(assistant.Id, assistant.CreatedAt, usage.Model ?? assistant.Model ?? usage.Provider,
            assistant.FinishReason == "length" ? "incomplete" : "completed",
            assistant.Content, assistant.ToolCalls ?? [], usage, assistant.FinishReason, parameters, previousResponseId, store);

    public static byte[] ToJson(Rendering rendering) => OpenAiChatWire.Write(json => Write(json, rendering));

    public static void Write(Utf8JsonWriter json, Rendering r)
    {
        json.WriteStartObject();
        json.WriteString("id", r.Id);
        json.WriteString("object", "response");
        json.WriteNumber("created_at", r.CreatedAt.ToUnixTimeSeconds());
        json.WriteString("status", r.Status);
        json.WriteBoolean("background", false);
        if (r.ErrorMessage is { } message)
        {
            json.WriteStartObject("error");
            json.WriteString("code", "server_error");
            json.WriteString("message", message);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("error");
        }

        if (r.Status == "incomplete")
        {
            json.WriteStartObject("incomplete_details");
            json.WriteString("reason", "max_output_tokens");
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("incomplete_details");
        }

        Echo(json, r.Parameters, "instructions", static w => w.WriteNullValue());
        Echo(json, r.Parameters, "max_output_tokens", static w => w.WriteNullValue());
        Echo(json, r.Parameters, "metadata", static w =>
        {
            w.WriteStartObject();
            w.WriteEndObject();
        });
        json.WriteString("model", r.Model);
        json.WriteStartArray("output");
        if (r.Status != "in_progress")
        {
            if (r.Text.Length > 0 || r.ToolCalls.Count == 0)
            {
                WriteMessageItem(json, r.AssistantMessageId, r.Text, "completed");
            }

            for (var i = 0; i < r.ToolCalls.Count; i++)
            {
                WriteFunctionCallItem(json, r.AssistantMessageId, i, r.ToolCalls[i], "completed");
            }
        }

        json.WriteEndArray();
        Echo(json, r.Parameters, "parallel_tool_calls", static w => w.WriteBooleanValue(true));
        if (r.PreviousResponseId is null)
        {
            json.WriteNull("previous_response_id");
        }
        else
        {
            json.WriteString("previous_response_id", r.PreviousResponseId);
        }

        json.WriteStartObject("reasoning");
        json.WriteNull("effort");
        json.WriteNull("summary");
        json.WriteEndObject();
        json.WriteBoolean("store", r.Store);
        Echo(json, r.Parameters, "temperature", static w => w.WriteNumberValue(1.0));
        Echo(json, r.Parameters, "text", static w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("format");
            w.WriteString("type", "text");
            w.WriteEndObject();
            w.WriteEndObject();
        });
        Echo(json, r.Parameters, "tool_choice", static w => w.WriteStringValue("auto"));
        Echo(json, r.Parameters, "tools", static w =>
        {
            w.WriteStartArray();
            w.WriteEndArray();
        });
        Echo(json, r.Parameters, "top_p", static w => w.WriteNumberValue(1.0));
        Echo(json, r.Parameters, "truncation", static w => w.WriteStringValue("disabled"));
        if (r.Usage is { } usage && r.Status != "in_progress")
        {
            json.WriteStartObject("usage");
            json.WriteNumber("input_tokens", usage.TokensIn);
            json.WriteStartObject("input_tokens_details");
            json.WriteNumber("cached_tokens", usage.CachedTokensIn);
            json.WriteEndObject();
            json.WriteNumber("output_tokens", usage.TokensOut);
            json.WriteStartObject("output_tokens_details");
            json.WriteNumber("reasoning_tokens", 0);
            json.WriteEndObject();
            json.WriteNumber("total_tokens", usage.TokensIn + usage.TokensOut);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("usage");
        }

        Echo(json, r.Parameters, "user", static w => w.WriteNullValue());
        json.WriteEndObject();
    }

    public static void WriteMessageItem(Utf8JsonWriter json, Guid assistantMessageId, string? text, string status)
    {
        json.WriteStartObject();
        json.WriteString("type", "message");
        json.WriteString("id", MessageItemId(assistantMessageId));
        json.WriteString("status", status);
        json.WriteString("role", "assistant");
        json.WriteStartArray("content");
        if (text is not null)
        {
            WriteTextPart(json, text);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteTextPart(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type", "output_text");
        json.WriteString("text", text);
        json.WriteStartArray("annotations");
        json.WriteEndArray();
        json.WriteStartArray("logprobs");
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteFunctionCallItem(Utf8JsonWriter json, Guid assistantMessageId, int index, ToolCall call, string status)
    {
        json.WriteStartObject();
        json.WriteString("type", "function_call");
        json.WriteString("id", FunctionCallItemId(assistantMessageId, index));
        json.WriteString("call_id", call.Id);
        json.WriteString("name", call.Name);
        json.WriteString("arguments", status == "completed" ? call.Arguments : "");
        json.WriteString("status", status);
        json.WriteEndObject();
    }

    /// <summary>A parameter as the request gave it, else its default.</summary>
    private static void Echo(Utf8JsonWriter json, JsonElement parameters, string name, Action<Utf8JsonWriter> fallback)
    {
        json.WritePropertyName(name);
        if (parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            value.WriteTo(json);
        }
        else
        {
            fallback(json);
        }
    }
}
