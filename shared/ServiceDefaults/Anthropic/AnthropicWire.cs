using System.Text.Json;

namespace StitchFin.ServiceDefaults.Anthropic;

/// <summary>
/// What both sides of this gateway that speak Anthropic's Messages API must agree on: its stop reasons against the
/// finish reasons of the common model (OpenAI's), both ways, and a tool call's arguments as the <c>input</c> object.
/// Conversation answers <c>/v1/messages</c> with them; providers reads an <c>anthropic</c> upstream's reply with them,
/// so a reply that passes through both keeps its meaning.
/// </summary>
public static class AnthropicWire
{
    public static class StopReasons
    {
        public const string EndTurn = "end_turn";
        public const string MaxTokens = "max_tokens";
        public const string StopSequence = "stop_sequence";
        public const string ToolUse = "tool_use";
        public const string Refusal = "refusal";
        public const string PauseTurn = "pause_turn";
        public const string ModelContextWindowExceeded = "model_context_window_exceeded";
    }

    /// <summary>The common model's (OpenAI's) finish reasons.</summary>
    public static class FinishReasons
    {
        public const string Stop = "stop";
        public const string Length = "length";
        public const string ToolCalls = "tool_calls";
        public const string ContentFilter = "content_filter";
    }

    /// <summary>A finish reason as Anthropic's stop reason; a reply that called tools stops for them.</summary>
    public static string StopReason(string? finishReason, bool calledTools) => finishReason switch
    {
        _ when calledTools => StopReasons.ToolUse,
        FinishReasons.Length => StopReasons.MaxTokens,
        FinishReasons.ToolCalls or "function_call" => StopReasons.ToolUse,
        FinishReasons.ContentFilter => StopReasons.Refusal,
        _ => StopReasons.EndTurn,
    };

    /// <summary>
    /// An Anthropic stop reason as a finish reason: the inverse of <see cref="StopReason"/>. A stop sequence is an
    /// ordinary stop, as OpenAI reports it; a reply cut by a limit is <c>length</c> even inside a tool call (as OpenAI
    /// reports a call cut short); a paused turn (server tools, which this gateway never sends) and reasons Anthropic
    /// adds later end the turn.
    /// </summary>
    public static string FinishReason(string? stopReason, bool calledTools) => stopReason switch
    {
        StopReasons.MaxTokens or StopReasons.ModelContextWindowExceeded => FinishReasons.Length,
        _ when calledTools => FinishReasons.ToolCalls,
        StopReasons.ToolUse => FinishReasons.ToolCalls,
        StopReasons.Refusal => FinishReasons.ContentFilter,
        _ => FinishReasons.Stop,
    };

    /// <summary>
    /// A tool call's arguments as the JSON object Anthropic's <c>input</c> is: the object as it is; no arguments, or
    /// arguments that are not a JSON object, are <c>{}</c>.
    /// </summary>
    public static string ToolInput(string arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return "{}";
        }

        try
        {
            using var document = JsonDocument.Parse(arguments);
            return document.RootElement.ValueKind == JsonValueKind.Object ? arguments.Trim() : "{}";
        }
        catch (JsonException)
        {
            return "{}";
        }
    }
}
