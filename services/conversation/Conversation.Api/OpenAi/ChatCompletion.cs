using System.Text.Json;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.OpenAi;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// An answered completion, rendered from the exchange the idempotency store keeps. Rendering is a pure function of
/// the stored exchange, so a replay is byte-identical to the first answer. <see cref="ChatCompletionHeader.Model"/> is
/// the model that answered, as the provider named it.
/// </summary>
public sealed record ChatCompletion(ChatCompletionHeader Header, string Content, IReadOnlyList<ToolCall> ToolCalls, string FinishReason, ChatUsage Usage)
{
    /// <param name="requestedModel">Named for exchanges stored before replies recorded their model.</param>
    public static ChatCompletion FromExchange(byte[] storedExchange, string requestedModel)
    {
        var exchange = JsonSerializer.Deserialize<MessageExchange>(storedExchange, JsonDefaults.JsonOptions)
            ?? throw new InvalidOperationException("The stored exchange is empty.");
        var assistant = exchange.AssistantMessage;
        var toolCalls = assistant.ToolCalls ?? [];
        return new ChatCompletion(
            HeaderFor(assistant.Id, assistant.CreatedAt, exchange.Usage.Model ?? assistant.Model ?? requestedModel),
            assistant.Content,
            toolCalls,
            // A reply that calls tools stops for them, whatever an upstream that forgot to say so reported.
            toolCalls.Count > 0 && assistant.FinishReason is null or "stop" ? "tool_calls" : assistant.FinishReason ?? "stop",
            new ChatUsage(exchange.Usage.TokensIn, exchange.Usage.TokensOut, exchange.Usage.CachedTokensIn));
    }

    public static ChatCompletionHeader HeaderFor(Guid assistantMessageId, DateTimeOffset createdAt, string model) =>
        new($"chatcmpl-{assistantMessageId:N}", createdAt.ToUnixTimeSeconds(), model);

    /// <summary>The <c>chat.completion</c> object.</summary>
    public byte[] ToJson() => OpenAiChatWire.Write(json => OpenAiChatWire.WriteCompletion(json, Header, Content, FinishReason, Usage, ToolCalls));
}
