using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.OpenAi;

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

        var (instructions, instructionsError) = OpenAiFields.OptionalString(root, "instructions");
        var (previous, previousError) = OpenAiFields.OptionalString(root, "previous_response_id");
        if ((instructionsError ?? previousError) is { } stringError)
        {
            return (null, stringError);
        }

        var (tools, toolsError) = OpenAiFields.Tools(root, tool => tool);
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

        var (background, backgroundError) = OpenAiFields.OptionalBoolean(root, "background", false);
        if (backgroundError is not null || background)
        {
            return Fail("'background' responses are not supported: ask with stream: true for a long answer.", "background", "unsupported_parameter");
        }

        if (root.TryGetProperty("conversation", out var conversation) && conversation.ValueKind != JsonValueKind.Null)
        {
            return Fail("'conversation' is not supported: continue a response with previous_response_id.", "conversation", "unsupported_parameter");
        }

        var (store, storeError) = OpenAiFields.OptionalBoolean(root, "store", true);
        var (stream, streamError) = OpenAiFields.OptionalBoolean(root, "stream", false);
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
    public string Fingerprint(Guid agentId) =>
        RequestFingerprint.Of(new { agentId, InputTurns, Instructions, Tools, Options, PreviousResponseId, Store, Parameters });

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
                var callIdError = OpenAiFields.RequiredString(item, "call_id", param, out var callId);
                var nameError = OpenAiFields.RequiredString(item, "name", param, out var name);
                var argumentsError = OpenAiFields.RequiredString(item, "arguments", param, out var arguments);
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
                if (OpenAiFields.RequiredString(item, "call_id", param, out var outputCallId) is { } idError)
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
    private static (string? Text, OpenAiError? Error) MessageText(JsonElement item, string param) =>
        !item.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null
            ? (null, OpenAiError.BadRequest($"'{param}.content' is required.", $"{param}.content", "missing_required_parameter"))
            : OpenAiFields.Text(content, $"{param}.content", "input_text", "output_text", "text");

    private static (GenerationOptions? Options, OpenAiError? Error) ReadOptions(JsonElement root, IReadOnlyList<ToolDefinition>? tools)
    {
        var (maxOutputTokens, maxError) = OpenAiFields.OptionalPositiveInteger(root, "max_output_tokens");
        var (choice, choiceError) = OpenAiFields.ToolChoiceOf(root, tools,
            c => c.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null);
        return (maxError ?? choiceError) is { } error ? (null, error) : OpenAiFields.Options(root, maxOutputTokens, choice, readStop: false);
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

    private static (OpenAiResponsesRequest? Request, OpenAiError? Error) Fail(string message, string? param, string code) =>
        (null, OpenAiError.BadRequest(message, param, code));
}
