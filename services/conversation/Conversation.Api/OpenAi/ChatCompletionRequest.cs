using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Translation;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// An OpenAI <c>POST /v1/chat/completions</c> body read into the common model: the messages as turns (an assistant's
/// <c>tool_calls</c> and the <c>tool</c> messages that answer them included), the function tools, and the generation
/// options (<c>max_completion_tokens</c> or <c>max_tokens</c>, <c>temperature</c>, <c>top_p</c>, <c>stop</c>,
/// <c>tool_choice</c>). Other fields are accepted and ignored.
/// </summary>
public sealed record ChatCompletionRequest(
    string Model,
    IReadOnlyList<ChatTurn> Turns,
    IReadOnlyList<ToolDefinition>? Tools,
    GenerationOptions Options,
    bool Stream,
    bool IncludeUsage)
{
    public const string System = "system";
    public const string Developer = "developer";
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Tool = "tool";

    private static readonly string[] SupportedRoles = [System, Developer, User, Assistant, Tool];

    /// <returns>The request, or the 400 error that says what is wrong with <paramref name="root"/>.</returns>
    public static (ChatCompletionRequest? Request, OpenAiError? Error) Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Fail("The request body must be a JSON object.", null, "invalid_json");
        }

        if (!root.TryGetProperty("model", out var modelElement) || modelElement.ValueKind == JsonValueKind.Null)
        {
            return Fail("You must provide a model parameter.", "model", "missing_required_parameter");
        }

        if (modelElement.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(modelElement.GetString()))
        {
            return Fail("'model' must be a non-empty string.", "model", "invalid_type");
        }

        if (!root.TryGetProperty("messages", out var messagesElement) || messagesElement.ValueKind == JsonValueKind.Null)
        {
            return Fail("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        }

        if (messagesElement.ValueKind != JsonValueKind.Array)
        {
            return Fail("'messages' must be an array.", "messages", "invalid_type");
        }

        if (messagesElement.GetArrayLength() == 0)
        {
            return Fail("'messages' must contain at least one message.", "messages", "empty_array");
        }

        var turns = new List<ChatTurn>(messagesElement.GetArrayLength());
        foreach (var element in messagesElement.EnumerateArray())
        {
            var (turn, error) = ParseMessage(element, $"messages[{turns.Count}]");
            if (error is not null)
            {
                return (null, error);
            }

            turns.Add(turn!);
        }

        if (!turns.Any(t => t.Role == User))
        {
            return Fail("'messages' must contain a message with role 'user'.", "messages", "missing_user_message");
        }

        var last = turns[^1];
        if (last.Role is not (User or Tool))
        {
            return Fail("The last message must have role 'user' or 'tool': it is what the agent answers.", $"messages[{turns.Count - 1}].role", "invalid_value");
        }

        if (last.Role == User && last.Text.Length == 0)
        {
            return Fail("The last user message must not be empty.", $"messages[{turns.Count - 1}].content", "invalid_value");
        }

        if (root.TryGetProperty("n", out var n) && n.ValueKind != JsonValueKind.Null && !(n.TryGetInt32(out var choices) && choices == 1))
        {
            return Fail("Only n = 1 is supported.", "n", "invalid_value");
        }

        var (tools, toolsError) = OpenAiFields.Tools(root, tool => tool.TryGetProperty("function", out var function) ? function : null);
        if (toolsError is not null)
        {
            return (null, toolsError);
        }

        var (options, optionsError) = ReadOptions(root, tools);
        if (optionsError is not null)
        {
            return (null, optionsError);
        }

        var (stream, streamError) = OpenAiFields.OptionalBoolean(root, "stream", false);
        if (streamError is not null)
        {
            return (null, streamError);
        }

        var includeUsage = false;
        if (root.TryGetProperty("stream_options", out var streamOptions) && streamOptions.ValueKind != JsonValueKind.Null)
        {
            if (streamOptions.ValueKind != JsonValueKind.Object)
            {
                return Fail("'stream_options' must be an object.", "stream_options", "invalid_type");
            }

            (includeUsage, var usageError) = OpenAiFields.OptionalBoolean(streamOptions, "include_usage", false, "stream_options.include_usage");
            if (usageError is not null)
            {
                return (null, usageError);
            }
        }

        return (new ChatCompletionRequest(modelElement.GetString()!, turns, tools, options!, stream, includeUsage), null);
    }

    /// <summary>What "the same request" means for an idempotency key: everything that reaches the agent, not <c>stream</c>.</summary>
    public string Fingerprint() => RequestFingerprint.Of(new ChatFingerprint(Turns, Tools, Options));

    private static (ChatTurn? Turn, OpenAiError? Error) ParseMessage(JsonElement element, string param)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return (null, OpenAiError.BadRequest($"'{param}' must be an object.", param, "invalid_type"));
        }

        if (!element.TryGetProperty("role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String)
        {
            return (null, OpenAiError.BadRequest($"'{param}.role' is required.", $"{param}.role", "missing_required_parameter"));
        }

        var role = roleElement.GetString()!;
        if (!SupportedRoles.Contains(role))
        {
            return (null, OpenAiError.BadRequest(
                $"Unsupported role '{role}' in '{param}.role'; supported roles are {string.Join(", ", SupportedRoles.Select(r => $"'{r}'"))}.",
                $"{param}.role", "unsupported_role"));
        }

        var (calls, callsError) = role == Assistant ? ToolCalls(element, param) : (null, null);
        if (callsError is not null)
        {
            return (null, callsError);
        }

        string text;
        if (!element.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            // An assistant message that only calls tools has no content.
            if (calls is null)
            {
                return (null, OpenAiError.BadRequest($"'{param}.content' is required.", $"{param}.content", "missing_required_parameter"));
            }

            text = "";
        }
        else
        {
            var (parsed, textError) = OpenAiFields.Text(content, $"{param}.content", "text");
            if (textError is not null)
            {
                return (null, textError);
            }

            text = parsed!;
        }

        string? toolCallId = null;
        if (role == Tool && OpenAiFields.RequiredString(element, "tool_call_id", param, out toolCallId) is { } idError)
        {
            return (null, idError);
        }

        return (new ChatTurn(role == Developer ? ChatRoles.System : role, text, calls, toolCallId), null);
    }

    /// <summary>An assistant message's <c>tool_calls</c>: <c>[{"id","type":"function","function":{"name","arguments"}}]</c>.</summary>
    private static (IReadOnlyList<ToolCall>? Calls, OpenAiError? Error) ToolCalls(JsonElement message, string param)
    {
        if (!message.TryGetProperty("tool_calls", out var callsElement) || callsElement.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (callsElement.ValueKind != JsonValueKind.Array || callsElement.GetArrayLength() == 0)
        {
            return (null, OpenAiError.BadRequest($"'{param}.tool_calls' must be a non-empty array.", $"{param}.tool_calls", "invalid_type"));
        }

        var calls = new List<ToolCall>();
        foreach (var call in callsElement.EnumerateArray())
        {
            var callParam = $"{param}.tool_calls[{calls.Count}]";
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                return (null, OpenAiError.BadRequest($"'{callParam}' must be a function call.", callParam, "invalid_type"));
            }

            var idError = OpenAiFields.RequiredString(call, "id", callParam, out var id);
            var nameError = OpenAiFields.RequiredString(function, "name", $"{callParam}.function", out var name);
            if ((idError ?? nameError) is { } error)
            {
                return (null, error);
            }

            // Arguments are the model's JSON text, passed back as they were; a call without any has "{}".
            var (arguments, argumentsError) = OpenAiFields.OptionalString(function, "arguments", $"{callParam}.function.arguments");
            if (argumentsError is not null)
            {
                return (null, argumentsError);
            }

            calls.Add(new ToolCall(id!, name!, arguments ?? "{}"));
        }

        return (calls, null);
    }

    private static (GenerationOptions? Options, OpenAiError? Error) ReadOptions(JsonElement root, IReadOnlyList<ToolDefinition>? tools)
    {
        // max_completion_tokens replaced max_tokens; a client that sends both means the newer.
        var (maxCompletionTokens, completionError) = OpenAiFields.OptionalPositiveInteger(root, "max_completion_tokens");
        var (maxTokens, maxError) = OpenAiFields.OptionalPositiveInteger(root, "max_tokens");
        var (choice, choiceError) = OpenAiFields.ToolChoiceOf(root, tools,
            c => c.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null);
        return (completionError ?? maxError ?? choiceError) is { } error
            ? (null, error)
            : OpenAiFields.Options(root, maxCompletionTokens ?? maxTokens, choice, readStop: true);
    }

    private static (ChatCompletionRequest? Request, OpenAiError? Error) Fail(string message, string? param, string code) =>
        (null, OpenAiError.BadRequest(message, param, code));

    private sealed record ChatFingerprint(IReadOnlyList<ChatTurn> Turns, IReadOnlyList<ToolDefinition>? Tools, GenerationOptions Options);
}
