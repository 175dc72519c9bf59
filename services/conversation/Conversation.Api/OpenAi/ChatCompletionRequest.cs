using System.Text;
using System.Text.Json;

namespace StitchFin.Conversation.OpenAi;

/// <summary>One request message reduced to what the mapping uses: its role and its text.</summary>
public sealed record ChatMessage(string Role, string Text);

/// <summary>
/// The fields of an OpenAI <c>POST /v1/chat/completions</c> body this API honours. Sampling parameters
/// (<c>temperature</c>, <c>max_tokens</c>, <c>tools</c>, ...) are accepted and ignored: the agent decides.
/// </summary>
public sealed record ChatCompletionRequest(string Model, IReadOnlyList<ChatMessage> Messages, bool Stream, bool IncludeUsage)
{
    public const string System = "system";
    public const string Developer = "developer";
    public const string User = "user";
    public const string Assistant = "assistant";

    private static readonly string[] SupportedRoles = [System, Developer, User, Assistant];

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

        var messages = new List<ChatMessage>(messagesElement.GetArrayLength());
        foreach (var element in messagesElement.EnumerateArray())
        {
            var (message, error) = ParseMessage(element, $"messages[{messages.Count}]");
            if (error is not null)
            {
                return (null, error);
            }

            messages.Add(message!);
        }

        var lastUser = messages.FindLastIndex(m => m.Role == User);
        if (lastUser < 0)
        {
            return Fail("'messages' must contain a message with role 'user'.", "messages", "missing_user_message");
        }

        if (lastUser != messages.Count - 1)
        {
            return Fail("The last message must have role 'user': it is the message the agent answers.", $"messages[{messages.Count - 1}].role", "invalid_value");
        }

        if (messages[lastUser].Text.Length == 0)
        {
            return Fail("The last user message must not be empty.", $"messages[{lastUser}].content", "invalid_value");
        }

        if (root.TryGetProperty("n", out var n) && n.ValueKind != JsonValueKind.Null && !(n.TryGetInt32(out var choices) && choices == 1))
        {
            return Fail("Only n = 1 is supported.", "n", "invalid_value");
        }

        var (stream, streamError) = OptionalBoolean(root, "stream", "stream");
        if (streamError is not null)
        {
            return (null, streamError);
        }

        var includeUsage = false;
        if (root.TryGetProperty("stream_options", out var options) && options.ValueKind != JsonValueKind.Null)
        {
            if (options.ValueKind != JsonValueKind.Object)
            {
                return Fail("'stream_options' must be an object.", "stream_options", "invalid_type");
            }

            (includeUsage, var usageError) = OptionalBoolean(options, "include_usage", "stream_options.include_usage");
            if (usageError is not null)
            {
                return (null, usageError);
            }
        }

        return (new ChatCompletionRequest(modelElement.GetString()!, messages, stream, includeUsage), null);
    }

    private static (ChatMessage? Message, OpenAiError? Error) ParseMessage(JsonElement element, string param)
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

        if (!element.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return (null, OpenAiError.BadRequest($"'{param}.content' is required.", $"{param}.content", "missing_required_parameter"));
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return (new ChatMessage(role, content.GetString()!), null);
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return (null, OpenAiError.BadRequest($"'{param}.content' must be a string or an array of text parts.", $"{param}.content", "invalid_type"));
        }

        // Text parts are joined with newlines; anything but text (images, audio, files) has nowhere to go.
        var text = new StringBuilder();
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "text"
                || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
            {
                return (null, OpenAiError.BadRequest(
                    $"'{param}.content[{index}]' must be a text part {{\"type\":\"text\",\"text\":\"...\"}}; other content types are not supported.",
                    $"{param}.content[{index}]", "unsupported_content"));
            }

            if (index > 0)
            {
                text.Append('\n');
            }

            text.Append(partText.GetString());
            index++;
        }

        return (new ChatMessage(role, text.ToString()), null);
    }

    private static (bool Value, OpenAiError? Error) OptionalBoolean(JsonElement parent, string name, string param)
    {
        if (!parent.TryGetProperty(name, out var value))
        {
            return (false, null);
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => (true, null),
            JsonValueKind.False or JsonValueKind.Null => (false, null),
            _ => (false, OpenAiError.BadRequest($"'{param}' must be a boolean.", param, "invalid_type")),
        };
    }

    private static (ChatCompletionRequest? Request, OpenAiError? Error) Fail(string message, string? param, string code) =>
        (null, OpenAiError.BadRequest(message, param, code));
}
