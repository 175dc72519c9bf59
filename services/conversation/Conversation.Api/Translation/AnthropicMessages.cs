using System.Buffers;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Anthropic;
using StitchFin.ServiceDefaults.OpenAi;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Translation;

/// <summary>
/// An Anthropic <c>POST /v1/messages</c> body in the common model: the conversation's turns (the request's
/// <c>system</c> first, as a system turn), the tools the model may call and how to generate. <see cref="Model"/> names
/// one of the tenant's agents.
/// </summary>
public sealed record AnthropicRequest(
    string Model,
    bool Stream,
    IReadOnlyList<ChatTurn> Turns,
    IReadOnlyList<ToolDefinition>? Tools,
    GenerationOptions Options)
{
    /// <summary>The conversation as one text: what the transcript keeps as the user's message.</summary>
    public string Content() => ConversationText.Flatten(Turns);

    /// <summary>What "the same request" means for an idempotency key: everything that reaches the agent, not <c>stream</c>.</summary>
    public string Fingerprint() => AnthropicMessages.Fingerprint(Turns, Tools, Options);
}

/// <summary>An answered exchange as Anthropic's <c>message</c> object needs it.</summary>
public sealed record AnthropicReply(
    string Id,
    string Model,
    string Text,
    IReadOnlyList<ToolCall> ToolCalls,
    string StopReason,
    int InputTokens,
    int OutputTokens,
    int CacheReadInputTokens = 0);

/// <summary>
/// Anthropic's Messages API on the wire, both ways, with no I/O: a request body to <see cref="AnthropicRequest"/>
/// (<see cref="Parse"/>), a stored exchange to the <c>message</c> object (<see cref="FromExchange"/>, <see cref="Message"/>),
/// the stream's events and the error shape. README "Anthropic Messages API" documents the mapping.
/// </summary>
public static class AnthropicMessages
{
    public const int MaxStopSequences = 4;
    public const int MaxTools = 128;
    public const int MaxToolNameLength = 64;

    public const string ThisApi = "Anthropic Messages API";

    /// <summary>Server-sent event names of a streamed message.</summary>
    public static class Events
    {
        public const string MessageStart = "message_start";
        public const string ContentBlockStart = "content_block_start";
        public const string ContentBlockDelta = "content_block_delta";
        public const string ContentBlockStop = "content_block_stop";
        public const string MessageDelta = "message_delta";
        public const string MessageStop = "message_stop";
        public const string Error = "error";
    }

    public static class ErrorTypes
    {
        public const string InvalidRequest = "invalid_request_error";
        public const string Authentication = "authentication_error";
        public const string Permission = "permission_error";
        public const string NotFound = "not_found_error";
        public const string RequestTooLarge = "request_too_large";
        public const string RateLimit = "rate_limit_error";
        public const string Api = "api_error";
        public const string Overloaded = "overloaded_error";
        public const string Timeout = "timeout_error";
    }

    private const string User = "user";
    private const string Assistant = "assistant";

    /// <returns>The request, or the message of the 400 <c>invalid_request_error</c> that says what is wrong with it.</returns>
    public static (AnthropicRequest? Request, string? Error) Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Fail("The request body must be a JSON object.");
        }

        if (!TryGet(root, "model", out var model))
        {
            return Fail("model: Field required.");
        }

        if (model.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(model.GetString()))
        {
            return Fail("model: must be a non-empty string naming one of your agents (its name or id).");
        }

        if (!TryGet(root, "max_tokens", out var maxTokensElement))
        {
            return Fail("max_tokens: Field required.");
        }

        if (maxTokensElement.ValueKind != JsonValueKind.Number || !maxTokensElement.TryGetInt32(out var maxTokens) || maxTokens < 1)
        {
            return Fail("max_tokens: must be an integer of at least 1.");
        }

        var turns = new List<ChatTurn>();
        var (system, systemError) = SystemText(root);
        if (systemError is not null)
        {
            return Fail(systemError);
        }

        if (system.Length > 0)
        {
            turns.Add(new ChatTurn(ChatRoles.System, system));
        }

        if (MessageTurns(root, turns) is { } messagesError)
        {
            return Fail(messagesError);
        }

        var (stream, streamError) = OptionalBoolean(root, "stream");
        var (temperature, temperatureError) = OptionalFraction(root, "temperature");
        var (topP, topPError) = OptionalFraction(root, "top_p");
        var (stop, stopError) = StopSequences(root);
        var (tools, toolsError) = Tools(root);
        if ((streamError ?? temperatureError ?? topPError ?? stopError ?? toolsError) is { } error)
        {
            return Fail(error);
        }

        var (toolChoice, toolChoiceError) = ToolChoiceOf(root, tools);
        if (toolChoiceError is not null)
        {
            return Fail(toolChoiceError);
        }

        // metadata, top_k, thinking, service_tier and anything else are accepted and ignored: the agent decides.
        return (new AnthropicRequest(model.GetString()!, stream, turns, tools, new GenerationOptions(maxTokens, temperature, topP, stop, toolChoice)), null);
    }

    /// <summary>
    /// The request minus <c>stream</c>, tagged with this API so that a key first used on another agent API (the same
    /// session for the same agent and key) is not taken for the same request.
    /// </summary>
    public static string Fingerprint(IReadOnlyList<ChatTurn> turns, IReadOnlyList<ToolDefinition>? tools, GenerationOptions options) =>
        RequestFingerprint.Of(new CanonicalRequest("anthropic-messages/1", turns, tools, options));

    public static string MessageId(Guid assistantMessageId) => $"msg_{assistantMessageId:N}";

    /// <summary>
    /// The answer a stored exchange (a <c>MessageExchange</c>, the idempotency record's body) renders as; a pure function
    /// of it, so a replay is byte-identical. <paramref name="requestedModel"/> stands in for exchanges stored before
    /// replies recorded their model.
    /// </summary>
    public static AnthropicReply FromExchange(byte[] storedExchange, string requestedModel)
    {
        var exchange = JsonSerializer.Deserialize<StoredExchange>(storedExchange, JsonDefaults.JsonOptions)
            ?? throw new InvalidOperationException("The stored exchange is empty.");
        var assistant = exchange.AssistantMessage;
        var toolCalls = StoredToolCalls(assistant);
        return new AnthropicReply(
            MessageId(assistant.Id),
            exchange.Usage.Model ?? assistant.Model ?? requestedModel,
            assistant.Content,
            toolCalls,
            AnthropicWire.StopReason(assistant.FinishReason, toolCalls.Count > 0),
            // Anthropic counts cache reads apart from input_tokens; OpenAI-compatible upstreams count them within.
            exchange.Usage.TokensIn - exchange.Usage.CachedTokensIn,
            exchange.Usage.TokensOut,
            exchange.Usage.CachedTokensIn);
    }

    /// <summary>The assistant's tool calls as the exchange stored them (<c>TranscriptMessage.ToolCalls</c>).</summary>
    private static IReadOnlyList<ToolCall> StoredToolCalls(StoredAssistant assistant) => assistant.ToolCalls ?? [];

    /// <summary>The <c>message</c> object of a whole answer.</summary>
    public static byte[] Message(AnthropicReply reply) => Write(json =>
    {
        json.WriteStartObject();
        WriteMessageHead(json, reply.Id, reply.Model);
        json.WriteStartArray("content");
        if (reply.Text.Length > 0)
        {
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", reply.Text);
            json.WriteEndObject();
        }

        foreach (var call in reply.ToolCalls)
        {
            WriteToolUse(json, call, AnthropicWire.ToolInput(call.Arguments));
        }

        json.WriteEndArray();
        json.WriteString("stop_reason", reply.StopReason);
        json.WriteNull("stop_sequence");
        WriteUsage(json, reply.InputTokens, reply.OutputTokens, reply.CacheReadInputTokens);
        json.WriteEndObject();
    });

    /// <summary><c>message_start</c>: the message with no content yet; input tokens are known only at the end, so 0.</summary>
    public static byte[] MessageStart(string id, string model) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("type", Events.MessageStart);
        json.WriteStartObject("message");
        WriteMessageHead(json, id, model);
        json.WriteStartArray("content");
        json.WriteEndArray();
        json.WriteNull("stop_reason");
        json.WriteNull("stop_sequence");
        WriteUsage(json, 0, 0, 0);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    public static byte[] TextBlockStart(int index) => Write(json =>
    {
        WriteEventHead(json, Events.ContentBlockStart, index);
        json.WriteStartObject("content_block");
        json.WriteString("type", "text");
        json.WriteString("text", "");
        json.WriteEndObject();
        json.WriteEndObject();
    });

    public static byte[] TextDelta(int index, string text) => Write(json =>
    {
        WriteEventHead(json, Events.ContentBlockDelta, index);
        json.WriteStartObject("delta");
        json.WriteString("type", "text_delta");
        json.WriteString("text", text);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    /// <summary>A <c>tool_use</c> block's start: its id and name, with <c>input: {}</c> (the input follows as one delta).</summary>
    public static byte[] ToolUseBlockStart(int index, ToolCall call) => Write(json =>
    {
        WriteEventHead(json, Events.ContentBlockStart, index);
        json.WritePropertyName("content_block");
        WriteToolUse(json, call, "{}");
        json.WriteEndObject();
    });

    public static byte[] InputJsonDelta(int index, string partialJson) => Write(json =>
    {
        WriteEventHead(json, Events.ContentBlockDelta, index);
        json.WriteStartObject("delta");
        json.WriteString("type", "input_json_delta");
        json.WriteString("partial_json", partialJson);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    public static byte[] BlockStop(int index) => Write(json =>
    {
        WriteEventHead(json, Events.ContentBlockStop, index);
        json.WriteEndObject();
    });

    /// <summary>
    /// <c>message_delta</c>: the stop reason and the usage, cumulative as Anthropic sends it (input tokens included, since
    /// <c>message_start</c> could not know them).
    /// </summary>
    public static byte[] MessageDelta(string stopReason, int inputTokens, int outputTokens, int cacheReadInputTokens = 0) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("type", Events.MessageDelta);
        json.WriteStartObject("delta");
        json.WriteString("stop_reason", stopReason);
        json.WriteNull("stop_sequence");
        json.WriteEndObject();
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", inputTokens);
        json.WriteNumber("output_tokens", outputTokens);
        if (cacheReadInputTokens > 0)
        {
            json.WriteNumber("cache_read_input_tokens", cacheReadInputTokens);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    });

    public static byte[] MessageStop() => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("type", Events.MessageStop);
        json.WriteEndObject();
    });

    /// <summary><c>{"type":"error","error":{"type","message"}}</c>: an error answer's body, and a failed stream's last event.</summary>
    public static byte[] Error(string type, string message) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("type", "error");
        json.WriteStartObject("error");
        json.WriteString("type", type);
        json.WriteString("message", message);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    /// <summary>Anthropic's error type for a status: its own where it has one, <c>api_error</c> for other 5xx.</summary>
    public static string ErrorType(int status) => status switch
    {
        401 => ErrorTypes.Authentication,
        403 => ErrorTypes.Permission,
        404 => ErrorTypes.NotFound,
        413 => ErrorTypes.RequestTooLarge,
        429 => ErrorTypes.RateLimit,
        503 or 529 => ErrorTypes.Overloaded,
        504 => ErrorTypes.Timeout,
        >= 500 => ErrorTypes.Api,
        _ => ErrorTypes.InvalidRequest,
    };

    private static (string Text, string? Error) SystemText(JsonElement root)
    {
        if (!TryGet(root, "system", out var system))
        {
            return ("", null);
        }

        return system.ValueKind switch
        {
            JsonValueKind.String => (system.GetString()!, null),
            JsonValueKind.Array => TextBlocks(system, "system"),
            _ => ("", "system: must be a string or an array of text blocks."),
        };
    }

    /// <summary>An array of <c>{"type":"text","text"}</c> blocks as one text (non-empty texts joined with a newline).</summary>
    private static (string Text, string? Error) TextBlocks(JsonElement blocks, string path)
    {
        var texts = new List<string>();
        var index = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            var blockPath = $"{path}.{index++}";
            var (type, typeError) = BlockType(block, blockPath);
            if (typeError is not null)
            {
                return ("", typeError);
            }

            if (type != "text")
            {
                return ("", Unsupported(blockPath, type!, "text"));
            }

            var (text, textError) = BlockText(block, blockPath);
            if (textError is not null)
            {
                return ("", textError);
            }

            if (text.Length > 0)
            {
                texts.Add(text);
            }
        }

        return (string.Join('\n', texts), null);
    }

    /// <summary>
    /// Appends the messages' turns: a user message's tool results first (one tool turn each), then its text; an
    /// assistant message's text with its tool calls. Each tool result answers a tool use of the message just before,
    /// and every tool use is answered by the next message, as Anthropic requires.
    /// </summary>
    private static string? MessageTurns(JsonElement root, List<ChatTurn> turns)
    {
        if (!TryGet(root, "messages", out var messages))
        {
            return "messages: Field required.";
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            return "messages: must be an array of messages.";
        }

        if (messages.GetArrayLength() == 0)
        {
            return "messages: must contain at least one message.";
        }

        List<string>? unanswered = null;
        var index = 0;
        string? lastRole = null;
        foreach (var message in messages.EnumerateArray())
        {
            var path = $"messages.{index++}";
            if (message.ValueKind != JsonValueKind.Object)
            {
                return $"{path}: must be an object.";
            }

            if (!TryGet(message, "role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String
                || roleElement.GetString() is not (User or Assistant))
            {
                return $"{path}.role: must be \"user\" or \"assistant\".";
            }

            var role = roleElement.GetString()!;
            if (!TryGet(message, "content", out var content))
            {
                return $"{path}.content: Field required.";
            }

            if (content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                return $"{path}.content: must be a string or an array of content blocks.";
            }

            var error = role == User
                ? UserTurns(content, path, turns, ref unanswered)
                : AssistantTurn(content, path, turns, ref unanswered);
            if (error is not null)
            {
                return error;
            }

            lastRole = role;
        }

        return lastRole == User
            ? null
            : $"messages.{index - 1}.role: the last message must have role \"user\"; it is the message the agent answers (a prefilled assistant reply is not supported).";
    }

    private static string? UserTurns(JsonElement content, string path, List<ChatTurn> turns, ref List<string>? unanswered)
    {
        var texts = new List<string>();
        var results = new List<ChatTurn>();
        if (content.ValueKind == JsonValueKind.String)
        {
            AddText(texts, content.GetString()!);
        }
        else
        {
            var index = 0;
            foreach (var block in content.EnumerateArray())
            {
                var blockPath = $"{path}.content.{index++}";
                var (type, typeError) = BlockType(block, blockPath);
                if (typeError is not null)
                {
                    return typeError;
                }

                switch (type)
                {
                    case "text":
                        var (text, textError) = BlockText(block, blockPath);
                        if (textError is not null)
                        {
                            return textError;
                        }

                        AddText(texts, text);
                        break;
                    case "tool_result":
                        var (result, resultError) = ToolResult(block, blockPath, unanswered);
                        if (resultError is not null)
                        {
                            return resultError;
                        }

                        unanswered!.Remove(result!.ToolCallId!);
                        results.Add(result);
                        break;
                    case "tool_use":
                        return $"{blockPath}.type: tool_use blocks belong in assistant messages.";
                    default:
                        return Unsupported(blockPath, type!, "text and tool_result");
                }
            }
        }

        if (unanswered is { Count: > 0 })
        {
            return $"{path}: tool_use ids were found without tool_result blocks immediately after: {string.Join(", ", unanswered)}. "
                + "Each tool_use block must have a corresponding tool_result block in the next message.";
        }

        unanswered = null;
        var joined = string.Join('\n', texts);
        if (results.Count == 0 && joined.Length == 0)
        {
            return $"{path}.content: must not be empty.";
        }

        turns.AddRange(results);
        if (joined.Length > 0)
        {
            turns.Add(new ChatTurn(ChatRoles.User, joined));
        }

        return null;
    }

    private static string? AssistantTurn(JsonElement content, string path, List<ChatTurn> turns, ref List<string>? unanswered)
    {
        if (unanswered is { Count: > 0 })
        {
            return $"{path}: tool_use ids were found without tool_result blocks immediately after: {string.Join(", ", unanswered)}. "
                + "Each tool_use block must have a corresponding tool_result block in the next message.";
        }

        var texts = new List<string>();
        var calls = new List<ToolCall>();
        if (content.ValueKind == JsonValueKind.String)
        {
            AddText(texts, content.GetString()!);
        }
        else
        {
            var index = 0;
            foreach (var block in content.EnumerateArray())
            {
                var blockPath = $"{path}.content.{index++}";
                var (type, typeError) = BlockType(block, blockPath);
                if (typeError is not null)
                {
                    return typeError;
                }

                switch (type)
                {
                    case "text":
                        var (text, textError) = BlockText(block, blockPath);
                        if (textError is not null)
                        {
                            return textError;
                        }

                        AddText(texts, text);
                        break;
                    case "tool_use":
                        var (call, callError) = ToolUse(block, blockPath);
                        if (callError is not null)
                        {
                            return callError;
                        }

                        calls.Add(call!);
                        break;
                    case "tool_result":
                        return $"{blockPath}.type: tool_result blocks belong in user messages.";
                    default:
                        return Unsupported(blockPath, type!, "text and tool_use");
                }
            }
        }

        var joined = string.Join('\n', texts);
        if (joined.Length == 0 && calls.Count == 0)
        {
            return $"{path}.content: must not be empty.";
        }

        turns.Add(new ChatTurn(ChatRoles.Assistant, joined, calls.Count > 0 ? calls : null));
        unanswered = calls.Count > 0 ? calls.Select(c => c.Id).ToList() : null;
        return null;
    }

    private static (ToolCall? Call, string? Error) ToolUse(JsonElement block, string path)
    {
        if (!TryGet(block, "id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString()))
        {
            return (null, $"{path}.id: must be a non-empty string.");
        }

        if (!TryGet(block, "name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(name.GetString()))
        {
            return (null, $"{path}.name: must be a non-empty string.");
        }

        if (!TryGet(block, "input", out var input) || input.ValueKind != JsonValueKind.Object)
        {
            return (null, $"{path}.input: must be an object.");
        }

        return (new ToolCall(id.GetString()!, name.GetString()!, input.GetRawText()), null);
    }

    private static (ChatTurn? Turn, string? Error) ToolResult(JsonElement block, string path, List<string>? unanswered)
    {
        if (!TryGet(block, "tool_use_id", out var idElement) || idElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(idElement.GetString()))
        {
            return (null, $"{path}.tool_use_id: must be a non-empty string.");
        }

        var id = idElement.GetString()!;
        if (unanswered is null || !unanswered.Contains(id, StringComparer.Ordinal))
        {
            return (null, $"{path}: unexpected tool_use_id found in tool_result blocks: {id}. "
                + "Each tool_result block must have a corresponding tool_use block in the previous message.");
        }

        // is_error is checked and then ignored: OpenAI-compatible upstreams have no such flag, and the text says what happened.
        if (OptionalBoolean(block, "is_error").Error is { } isErrorProblem)
        {
            return (null, $"{path}.{isErrorProblem}");
        }

        if (!TryGet(block, "content", out var content))
        {
            return (new ChatTurn(ChatRoles.Tool, "", ToolCallId: id), null);
        }

        var (text, error) = content.ValueKind switch
        {
            JsonValueKind.String => (content.GetString()!, null),
            JsonValueKind.Array => TextBlocks(content, $"{path}.content"),
            _ => ("", $"{path}.content: must be a string or an array of text blocks."),
        };
        return error is null ? (new ChatTurn(ChatRoles.Tool, text, ToolCallId: id), null) : (null, error);
    }

    private static (IReadOnlyList<ToolDefinition>? Tools, string? Error) Tools(JsonElement root)
    {
        if (!TryGet(root, "tools", out var tools))
        {
            return (null, null);
        }

        if (tools.ValueKind != JsonValueKind.Array)
        {
            return (null, "tools: must be an array of tools.");
        }

        if (tools.GetArrayLength() > MaxTools)
        {
            return (null, $"tools: at most {MaxTools} tools are accepted.");
        }

        var definitions = new List<ToolDefinition>();
        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var path = $"tools.{index++}";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                return (null, $"{path}: must be an object.");
            }

            if (TryGet(tool, "type", out var type) && !(type.ValueKind == JsonValueKind.String && type.GetString() == "custom"))
            {
                return (null, $"{path}.type: server and built-in tools ({type.GetRawText()}) are not supported; only custom tools with a name and an input_schema.");
            }

            if (!TryGet(tool, "name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String || !IsToolName(nameElement.GetString()!))
            {
                return (null, $"{path}.name: must be 1-{MaxToolNameLength} letters, digits, '_' or '-'.");
            }

            var name = nameElement.GetString()!;
            if (definitions.Any(d => d.Name == name))
            {
                return (null, $"{path}.name: tool names must be unique; '{name}' is used twice.");
            }

            string? description = null;
            if (TryGet(tool, "description", out var descriptionElement))
            {
                if (descriptionElement.ValueKind != JsonValueKind.String)
                {
                    return (null, $"{path}.description: must be a string.");
                }

                description = descriptionElement.GetString();
            }

            if (!TryGet(tool, "input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
            {
                return (null, $"{path}.input_schema: must be a JSON schema object.");
            }

            definitions.Add(new ToolDefinition(name, description, schema.Clone()));
        }

        return (definitions.Count == 0 ? null : definitions, null);
    }

    private static (ToolChoice? Choice, string? Error) ToolChoiceOf(JsonElement root, IReadOnlyList<ToolDefinition>? tools)
    {
        if (!TryGet(root, "tool_choice", out var choice))
        {
            return (null, null);
        }

        if (choice.ValueKind != JsonValueKind.Object || !TryGet(choice, "type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return (null, "tool_choice: must be an object with a type: \"auto\", \"any\", \"tool\" or \"none\".");
        }

        // disable_parallel_tool_use is accepted and ignored.
        switch (type.GetString())
        {
            case "auto":
                return (new ToolChoice(ToolChoice.Auto), null);
            case "none":
                return (new ToolChoice(ToolChoice.None), null);
            case "any":
                return tools is null
                    ? (null, "tool_choice: \"any\" needs tools.")
                    : (new ToolChoice(ToolChoice.Required), null);
            case "tool":
                if (!TryGet(choice, "name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    return (null, "tool_choice.name: Field required for type \"tool\".");
                }

                return tools is not null && tools.Any(t => t.Name == name.GetString())
                    ? (new ToolChoice(ToolChoice.Function, name.GetString()), null)
                    : (null, $"tool_choice.name: '{name.GetString()}' is not among the tools.");
            default:
                return (null, $"tool_choice.type: must be \"auto\", \"any\", \"tool\" or \"none\", not '{type.GetString()}'.");
        }
    }

    private static (IReadOnlyList<string>? Stop, string? Error) StopSequences(JsonElement root)
    {
        if (!TryGet(root, "stop_sequences", out var stop))
        {
            return (null, null);
        }

        if (stop.ValueKind != JsonValueKind.Array || stop.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String))
        {
            return (null, "stop_sequences: must be an array of strings.");
        }

        if (stop.GetArrayLength() > MaxStopSequences)
        {
            return (null, $"stop_sequences: at most {MaxStopSequences} are accepted here.");
        }

        var sequences = stop.EnumerateArray().Select(s => s.GetString()!).ToArray();
        return (sequences.Length == 0 ? null : sequences, null);
    }

    private static (double? Value, string? Error) OptionalFraction(JsonElement parent, string name)
    {
        if (!TryGet(parent, name, out var element))
        {
            return (null, null);
        }

        return element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var value) && value is >= 0 and <= 1
            ? (value, null)
            : (null, $"{name}: must be a number between 0 and 1.");
    }

    private static (bool Value, string? Error) OptionalBoolean(JsonElement parent, string name)
    {
        if (!TryGet(parent, name, out var element))
        {
            return (false, null);
        }

        return element.ValueKind switch
        {
            JsonValueKind.True => (true, null),
            JsonValueKind.False => (false, null),
            _ => (false, $"{name}: must be a boolean."),
        };
    }

    private static (string? Type, string? Error) BlockType(JsonElement block, string path)
    {
        if (block.ValueKind != JsonValueKind.Object)
        {
            return (null, $"{path}: must be a content block object.");
        }

        return TryGet(block, "type", out var type) && type.ValueKind == JsonValueKind.String
            ? (type.GetString(), null)
            : (null, $"{path}.type: Field required.");
    }

    /// <summary>A text block's text; <c>cache_control</c> and <c>citations</c> are accepted and ignored.</summary>
    private static (string Text, string? Error) BlockText(JsonElement block, string path) =>
        TryGet(block, "text", out var text) && text.ValueKind == JsonValueKind.String
            ? (text.GetString()!, null)
            : ("", $"{path}.text: must be a string.");

    private static string Unsupported(string path, string type, string supported) =>
        $"{path}.type: content blocks of type '{type}' are not supported here; only {supported} blocks are accepted.";

    private static void AddText(List<string> texts, string text)
    {
        if (text.Length > 0)
        {
            texts.Add(text);
        }
    }

    private static bool IsToolName(string name) =>
        name.Length is > 0 and <= MaxToolNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>The property when it is present and not null.</summary>
    private static bool TryGet(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static void WriteMessageHead(Utf8JsonWriter json, string id, string model)
    {
        json.WriteString("id", id);
        json.WriteString("type", "message");
        json.WriteString("role", Assistant);
        json.WriteString("model", model);
    }

    private static void WriteEventHead(Utf8JsonWriter json, string type, int index)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteNumber("index", index);
    }

    private static void WriteToolUse(Utf8JsonWriter json, ToolCall call, string input)
    {
        json.WriteStartObject();
        json.WriteString("type", "tool_use");
        json.WriteString("id", call.Id);
        json.WriteString("name", call.Name);
        json.WritePropertyName("input");
        json.WriteRawValue(input);
        // Anthropic marks every call the model made itself so (its SDKs' models require the field).
        json.WriteStartObject("caller");
        json.WriteString("type", "direct");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter json, int inputTokens, int outputTokens, int cacheReadInputTokens)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", inputTokens);
        json.WriteNumber("output_tokens", outputTokens);
        json.WriteNumber("cache_read_input_tokens", cacheReadInputTokens);
        json.WriteNumber("cache_creation_input_tokens", 0);
        json.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static (AnthropicRequest? Request, string? Error) Fail(string message) => (null, message);

    /// <summary>The parts of a stored <c>MessageExchange</c> an Anthropic answer is made of.</summary>
    private sealed record StoredExchange(StoredAssistant AssistantMessage, StoredUsage Usage);

    private sealed record StoredAssistant(Guid Id, string Content, string? Model, string? FinishReason, IReadOnlyList<ToolCall>? ToolCalls);

    private sealed record CanonicalRequest(string Api, IReadOnlyList<ChatTurn> Turns, IReadOnlyList<ToolDefinition>? Tools, GenerationOptions Options);

    private sealed record StoredUsage(int TokensIn, int TokensOut, string? Model, int CachedTokensIn = 0);
}
