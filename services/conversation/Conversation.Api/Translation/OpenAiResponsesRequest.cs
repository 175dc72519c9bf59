using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.OpenAi;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Translation;

/// <summary>
/// An OpenAI Responses API request (<c>POST /v1/responses</c>) read into the common model: the input as turns (tool
/// calls and their outputs included) and as the items the API lists back, the tools, the generation options, and the
/// parameters a response object repeats. Unknown fields are ignored; everything this gateway cannot honour (images,
/// files, built-in tools) is a 400 that names the field.
/// </summary>
public sealed record OpenAiResponsesRequest(
    string Model,
    IReadOnlyList<ChatTurn> InputTurns,
    IReadOnlyList<JsonElement> InputItems,
    string? Instructions,
    IReadOnlyList<ToolDefinition>? Tools,
    GenerationOptions Options,
    string? PreviousResponseId,
    bool Store,
    bool Stream,
    JsonElement Parameters)
{
    public const int MaxMetadataEntries = 16;

    private static readonly string[] MessageRoles = ["user", "assistant", "system", "developer"];

    public static (OpenAiResponsesRequest? Request, OpenAiError? Error) Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Fail("The request body must be a JSON object.", null, "invalid_json");
        }

        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(model.GetString()))
        {
            return Fail("'model' is required: the name or id of one of your agents.", "model", "missing_required_parameter");
        }

        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            return Fail("'input' is required: a string or a list of input items.", "input", "missing_required_parameter");
        }

        var turns = new List<ChatTurn>();
        var items = new List<JsonElement>();
        if (input.ValueKind == JsonValueKind.String)
        {
            turns.Add(new ChatTurn(ChatRoles.User, input.GetString()!));
            items.Add(MessageItem("user", input.GetString()!, "input_text"));
        }
        else if (input.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in input.EnumerateArray())
            {
                if (ReadItem(item, $"input[{index}]", turns, items) is { } error)
                {
                    return (null, error);
                }

                index++;
            }
        }
        else
        {
            return Fail("'input' must be a string or a list of input items.", "input", "invalid_type");
        }

        if (turns.Count == 0)
        {
            return Fail("'input' must hold at least one item.", "input", "empty_array");
        }

        if (turns[^1].Role is not (ChatRoles.User or ChatRoles.Tool))
        {
            return Fail("The last input item must be a user message or a function_call_output: it is what the agent answers.", "input", "invalid_value");
        }

        if (turns[^1] is { Role: ChatRoles.User, Text.Length: 0 })
        {
            return Fail("The last user message must not be empty.", "input", "invalid_value");
        }

        var (instructions, instructionsError) = OptionalString(root, "instructions");
        var (previous, previousError) = OptionalString(root, "previous_response_id");
        if ((instructionsError ?? previousError) is { } stringError)
        {
            return (null, stringError);
        }

        var (tools, toolsError) = ReadTools(root);
        if (toolsError is not null)
        {
            return (null, toolsError);
        }

        var (options, optionsError) = ReadOptions(root, tools);
        if (optionsError is not null)
        {
            return (null, optionsError);
        }

        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != JsonValueKind.Null
            && (metadata.ValueKind != JsonValueKind.Object || metadata.EnumerateObject().Count() > MaxMetadataEntries
                || metadata.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String || p.Name.Length > 64 || p.Value.GetString()!.Length > 512)))
        {
            return Fail($"'metadata' must be an object of at most {MaxMetadataEntries} string values (keys up to 64, values up to 512 characters).", "metadata", "invalid_value");
        }

        var (background, backgroundError) = OptionalBoolean(root, "background", false);
        if (backgroundError is not null || background)
        {
            return Fail("'background' responses are not supported: ask with stream: true for a long answer.", "background", "unsupported_parameter");
        }

        if (root.TryGetProperty("conversation", out var conversation) && conversation.ValueKind != JsonValueKind.Null)
        {
            return Fail("'conversation' is not supported: continue a response with previous_response_id.", "conversation", "unsupported_parameter");
        }

        var (store, storeError) = OptionalBoolean(root, "store", true);
        var (stream, streamError) = OptionalBoolean(root, "stream", false);
        if ((storeError ?? streamError) is { } booleanError)
        {
            return (null, booleanError);
        }

        return (new OpenAiResponsesRequest(model.GetString()!, turns, items, instructions, tools, options!, previous, store, stream, Echo(root)), null);
    }

    /// <summary>
    /// The conversation the upstream gets: the request's instructions (they are not carried over from a previous
    /// response), then the previous responses' turns, then this request's input.
    /// </summary>
    public IReadOnlyList<ChatTurn> Turns(IReadOnlyList<ChatTurn> history) =>
        [.. Instructions is { Length: > 0 } text ? [new ChatTurn(ChatRoles.System, text)] : Array.Empty<ChatTurn>(), .. history, .. InputTurns];

    /// <summary>What makes two requests "the same" for an idempotency key: everything but <c>stream</c>.</summary>
    public string Fingerprint(Guid agentId)
    {
        var canonical = JsonSerializer.Serialize(new { agentId, InputTurns, Instructions, Tools, Options, PreviousResponseId, Store, Parameters }, JsonDefaults.JsonOptions);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static OpenAiError? ReadItem(JsonElement item, string param, List<ChatTurn> turns, List<JsonElement> items)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return OpenAiError.BadRequest($"'{param}' must be an object.", param, "invalid_type");
        }

        var type = item.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString() : null;
        switch (type)
        {
            case null or "message":
                if (!item.TryGetProperty("role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String
                    || !MessageRoles.Contains(roleElement.GetString()))
                {
                    return OpenAiError.BadRequest($"'{param}.role' must be one of {string.Join(", ", MessageRoles)}.", $"{param}.role", "invalid_value");
                }

                var role = roleElement.GetString()!;
                var (text, textError) = MessageText(item, param);
                if (textError is not null)
                {
                    return textError;
                }

                turns.Add(new ChatTurn(role == "developer" ? ChatRoles.System : role, text!));
                items.Add(MessageItem(role, text!, role == "assistant" ? "output_text" : "input_text"));
                return null;
            case "function_call":
                var callIdError = RequiredString(item, "call_id", param, out var callId);
                var nameError = RequiredString(item, "name", param, out var name);
                var argumentsError = RequiredString(item, "arguments", param, out var arguments);
                if ((callIdError ?? nameError ?? argumentsError) is { } callError)
                {
                    return callError;
                }

                var call = new ToolCall(callId!, name!, arguments!);
                if (turns.Count > 0 && turns[^1].Role == ChatRoles.Assistant)
                {
                    turns[^1] = turns[^1] with { ToolCalls = [.. turns[^1].ToolCalls ?? [], call] };
                }
                else
                {
                    turns.Add(new ChatTurn(ChatRoles.Assistant, "", [call]));
                }

                items.Add(Json(w =>
                {
                    w.WriteString("type", "function_call");
                    w.WriteString("id", $"fc_{Guid.CreateVersion7():N}");
                    w.WriteString("call_id", callId);
                    w.WriteString("name", name);
                    w.WriteString("arguments", arguments);
                    w.WriteString("status", "completed");
                }));
                return null;
            case "function_call_output":
                if (RequiredString(item, "call_id", param, out var outputCallId) is { } idError)
                {
                    return idError;
                }

                if (!item.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.String)
                {
                    return OpenAiError.BadRequest($"'{param}.output' must be a string.", $"{param}.output", "invalid_type");
                }

                turns.Add(new ChatTurn(ChatRoles.Tool, output.GetString()!, ToolCallId: outputCallId));
                items.Add(Json(w =>
                {
                    w.WriteString("type", "function_call_output");
                    w.WriteString("id", $"fco_{Guid.CreateVersion7():N}");
                    w.WriteString("call_id", outputCallId);
                    w.WriteString("output", output.GetString());
                    w.WriteString("status", "completed");
                }));
                return null;
            default:
                return OpenAiError.BadRequest(
                    $"Input items of type '{type}' are not supported; use messages, function_call and function_call_output.", $"{param}.type", "unsupported_input");
        }
    }

    /// <summary>A message's text: a string, or text parts (<c>input_text</c>, <c>output_text</c>, <c>text</c>) joined with newlines.</summary>
    private static (string? Text, OpenAiError? Error) MessageText(JsonElement item, string param)
    {
        if (!item.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return (null, OpenAiError.BadRequest($"'{param}.content' is required.", $"{param}.content", "missing_required_parameter"));
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return (content.GetString(), null);
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return (null, OpenAiError.BadRequest($"'{param}.content' must be a string or a list of text parts.", $"{param}.content", "invalid_type"));
        }

        var text = new StringBuilder();
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var partType)
                || partType.GetString() is not ("input_text" or "output_text" or "text")
                || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
            {
                return (null, OpenAiError.BadRequest(
                    $"'{param}.content[{index}]' must be a text part; images, audio and files are not supported.", $"{param}.content[{index}]", "unsupported_content"));
            }

            text.Append(index > 0 ? "\n" : "").Append(partText.GetString());
            index++;
        }

        return (text.ToString(), null);
    }

    private static (IReadOnlyList<ToolDefinition>? Tools, OpenAiError? Error) ReadTools(JsonElement root)
    {
        if (!root.TryGetProperty("tools", out var toolsElement) || toolsElement.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (toolsElement.ValueKind != JsonValueKind.Array)
        {
            return (null, OpenAiError.BadRequest("'tools' must be a list of function tools.", "tools", "invalid_type"));
        }

        var tools = new List<ToolDefinition>();
        var index = 0;
        foreach (var tool in toolsElement.EnumerateArray())
        {
            var param = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.GetString() != "function")
            {
                return (null, OpenAiError.BadRequest($"'{param}' must be a function tool; built-in tools are not supported.", $"{param}.type", "unsupported_tool"));
            }

            if (!tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(name.GetString()))
            {
                return (null, OpenAiError.BadRequest($"'{param}.name' is required.", $"{param}.name", "missing_required_parameter"));
            }

            var description = tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            JsonElement? parameters = tool.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object ? p.Clone() : null;
            tools.Add(new ToolDefinition(name.GetString()!, description, parameters));
        }

        return (tools, null);
    }

    private static (GenerationOptions? Options, OpenAiError? Error) ReadOptions(JsonElement root, IReadOnlyList<ToolDefinition>? tools)
    {
        int? maxOutputTokens = null;
        if (root.TryGetProperty("max_output_tokens", out var max) && max.ValueKind != JsonValueKind.Null)
        {
            if (!max.TryGetInt32(out var value) || value < 1)
            {
                return (null, OpenAiError.BadRequest("'max_output_tokens' must be a positive integer.", "max_output_tokens", "invalid_value"));
            }

            maxOutputTokens = value;
        }

        var (temperature, temperatureError) = OptionalNumber(root, "temperature", 0, 2);
        var (topP, topPError) = OptionalNumber(root, "top_p", 0, 1);
        if ((temperatureError ?? topPError) is { } numberError)
        {
            return (null, numberError);
        }

        ToolChoice? choice = null;
        if (root.TryGetProperty("tool_choice", out var toolChoice) && toolChoice.ValueKind != JsonValueKind.Null)
        {
            choice = toolChoice.ValueKind switch
            {
                JsonValueKind.String when toolChoice.GetString() is ToolChoice.Auto or ToolChoice.None or ToolChoice.Required =>
                    new ToolChoice(toolChoice.GetString()!),
                JsonValueKind.Object when toolChoice.TryGetProperty("type", out var t) && t.GetString() == "function"
                    && toolChoice.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String => new ToolChoice(ToolChoice.Function, n.GetString()),
                _ => null,
            };
            if (choice is null || (choice.Mode == ToolChoice.Function && tools?.Any(t => t.Name == choice.Name) != true)
                || (choice.Mode == ToolChoice.Required && tools is not { Count: > 0 }))
            {
                return (null, OpenAiError.BadRequest(
                    "'tool_choice' must be auto, none, required (with tools) or {\"type\":\"function\",\"name\"} naming one of the tools.", "tool_choice", "invalid_value"));
            }
        }

        return (new GenerationOptions(maxOutputTokens, temperature, topP, null, choice), null);
    }

    /// <summary>The parameters a response object repeats, as the request gave them.</summary>
    private static JsonElement Echo(JsonElement root) => Json(w =>
    {
        foreach (var name in new[] { "instructions", "max_output_tokens", "metadata", "parallel_tool_calls", "temperature", "text", "tool_choice", "tools", "top_p", "truncation", "user" })
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
        }
    });

    private static JsonElement MessageItem(string role, string text, string partType) => Json(w =>
    {
        w.WriteString("type", "message");
        w.WriteString("id", $"msg_{Guid.CreateVersion7():N}");
        w.WriteString("status", "completed");
        w.WriteString("role", role);
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", partType);
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
    });

    private static JsonElement Json(Action<Utf8JsonWriter> properties)
    {
        var bytes = ServiceDefaults.OpenAi.OpenAiChatWire.Write(w =>
        {
            w.WriteStartObject();
            properties(w);
            w.WriteEndObject();
        });
        using var document = JsonDocument.Parse(bytes);
        return document.RootElement.Clone();
    }

    private static OpenAiError? RequiredString(JsonElement item, string name, string param, out string? value)
    {
        value = item.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        return string.IsNullOrEmpty(value)
            ? OpenAiError.BadRequest($"'{param}.{name}' is required.", $"{param}.{name}", "missing_required_parameter")
            : null;
    }

    private static (string? Value, OpenAiError? Error) OptionalString(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? (null, null)
        : value.ValueKind == JsonValueKind.String ? (value.GetString(), null)
        : (null, OpenAiError.BadRequest($"'{name}' must be a string.", name, "invalid_type"));

    private static (bool Value, OpenAiError? Error) OptionalBoolean(JsonElement root, string name, bool fallback) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? (fallback, null)
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? (value.GetBoolean(), null)
        : (fallback, OpenAiError.BadRequest($"'{name}' must be a boolean.", name, "invalid_type"));

    private static (double? Value, OpenAiError? Error) OptionalNumber(JsonElement root, string name, double min, double max) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? (null, null)
        : value.TryGetDouble(out var number) && number >= min && number <= max ? (number, null)
        : (null, OpenAiError.BadRequest(
            $"'{name}' must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.", name, "invalid_value"));

    private static (OpenAiResponsesRequest? Request, OpenAiError? Error) Fail(string message, string? param, string code) =>
        (null, OpenAiError.BadRequest(message, param, code));
}
