using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.ServiceDefaults.Anthropic;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Upstreams;

/// <summary>
/// Anthropic's Messages API, <c>POST {base}/messages</c> with <c>x-api-key</c> and <c>anthropic-version</c>, for
/// providers of kind <c>anthropic</c>. Anthropic has one system prompt, at the top: the agent's, then every system turn
/// of the conversation in order, joined by blank lines. The other turns are messages of content blocks, consecutive
/// turns of one role in one message (as Anthropic requires): user text, an assistant's text and <c>tool_use</c> blocks
/// (arguments that are no JSON object are <c>{}</c>), a tool's output as a <c>tool_result</c> block of a user message.
/// <c>max_tokens</c> is required: a request without a limit gets the provider's <c>DefaultMaxTokens</c>. Stop reasons map
/// to finish reasons by <see cref="AnthropicWire.FinishReason"/>; usage counts cache reads and writes within the
/// prompt tokens, as OpenAI does, and cache reads also as cached tokens.
/// </summary>
public sealed class AnthropicMessagesProtocol : IUpstreamProtocol
{
    public const string Version = "2023-06-01";
    public const string VersionHeader = "anthropic-version";
    public const string KeyHeader = "x-api-key";

    /// <summary>The stream's event types this protocol reads; the others (<c>ping</c>, a block's stop) add nothing.</summary>
    public static class Events
    {
        public const string MessageStart = "message_start";
        public const string ContentBlockStart = "content_block_start";
        public const string ContentBlockDelta = "content_block_delta";
        public const string MessageDelta = "message_delta";
        public const string MessageStop = "message_stop";
        public const string Error = "error";
    }

    /// <summary>What a tool without a schema takes: Anthropic requires one.</summary>
    private static readonly JsonElement AnyObject = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement.Clone();

    public bool StopsAtSequences => true;

    public void Authenticate(HttpRequestHeaders headers, ProviderEntry provider)
    {
        if (provider.ApiKey is { } key)
        {
            headers.TryAddWithoutValidation(KeyHeader, key);
        }

        if (!headers.Contains(VersionHeader))
        {
            headers.TryAddWithoutValidation(VersionHeader, Version);
        }
    }

    public byte[] Request(Target target, NormalizedRequest request, bool stream) => OpenAiChatWire.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("model", target.Model);
        json.WriteNumber("max_tokens", request.Options?.MaxOutputTokens
            ?? target.Provider.DefaultMaxTokens ?? ProviderCatalogOptions.AnthropicDefaultMaxTokens);
        var system = string.Join("\n\n", new[] { request.SystemPrompt }
            .Concat(request.Turns.Where(t => t.Role == ChatRoles.System).Select(t => t.Text))
            .Where(text => text.Length > 0));
        if (system.Length > 0)
        {
            json.WriteString("system", system);
        }

        json.WriteStartArray("messages");
        foreach (var (role, blocks) in Messages(request.Turns))
        {
            json.WriteStartObject();
            json.WriteString("role", role);
            json.WriteStartArray("content");
            foreach (var block in blocks)
            {
                block(json);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (request.Tools is { Count: > 0 } tools)
        {
            json.WriteStartArray("tools");
            foreach (var tool in tools)
            {
                json.WriteStartObject();
                json.WriteString("name", tool.Name);
                if (tool.Description is not null)
                {
                    json.WriteString("description", tool.Description);
                }

                json.WritePropertyName("input_schema");
                (tool.Parameters ?? AnyObject).WriteTo(json);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteToolChoice(json, request.Options?.ToolChoice);
        }

        if (request.Options is { } options)
        {
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
                json.WriteStartArray("stop_sequences");
                foreach (var sequence in stop)
                {
                    json.WriteStringValue(sequence);
                }

                json.WriteEndArray();
            }
        }

        json.WriteBoolean("stream", stream);
        json.WriteEndObject();
    });

    public ChatPiece? ReadWhole(ReadOnlySpan<byte> body)
    {
        using var document = UpstreamProtocols.Parse(body);
        if (document?.RootElement is not { ValueKind: JsonValueKind.Object } message)
        {
            return null;
        }

        if (message.String("type") == "error")
        {
            return new ChatPiece(null, null, null, null, Error(message));
        }

        if (message.Property("content") is not { ValueKind: JsonValueKind.Array } content)
        {
            return null;
        }

        var text = new StringBuilder();
        var calls = new List<ToolCallPiece>();
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            switch (block.String("type"))
            {
                case "text":
                    text.Append(block.String("text"));
                    break;
                case "tool_use":
                    var input = block.Property("input");
                    calls.Add(new ToolCallPiece(index, block.String("id"), block.String("name"),
                        input.ValueKind == JsonValueKind.Object ? input.GetRawText() : "{}"));
                    break;
            }

            // Thinking blocks and others this gateway has no place for are left out.
            index++;
        }

        var usage = new UsageParts();
        usage.Add(message.Property("usage"));
        return new ChatPiece(
            message.String("model"),
            text.ToString(),
            AnthropicWire.FinishReason(message.String("stop_reason"), calls.Count > 0),
            usage.Total(),
            null,
            calls.Count > 0 ? calls : null);
    }

    public IUpstreamEventReader NewEventReader() => new EventReader();

    /// <summary>
    /// The turns other than system ones as messages, consecutive turns of one role (tool outputs are the user's) joined
    /// into one; empty text is left out (Anthropic refuses empty text blocks), and so is a message left with nothing.
    /// </summary>
    private static List<(string Role, List<Action<Utf8JsonWriter>> Blocks)> Messages(IReadOnlyList<ChatTurn> turns)
    {
        var messages = new List<(string Role, List<Action<Utf8JsonWriter>> Blocks)>();
        foreach (var turn in turns.Where(t => t.Role != ChatRoles.System))
        {
            var role = turn.Role == ChatRoles.Assistant ? "assistant" : "user";
            var blocks = new List<Action<Utf8JsonWriter>>();
            if (turn.Role == ChatRoles.Tool)
            {
                blocks.Add(json => WriteToolResult(json, turn));
            }
            else if (turn.Text.Length > 0)
            {
                blocks.Add(json => WriteText(json, turn.Text));
            }

            foreach (var call in turn.Role == ChatRoles.Assistant ? turn.ToolCalls ?? [] : [])
            {
                blocks.Add(json => WriteToolUse(json, call));
            }

            if (blocks.Count == 0)
            {
                continue;
            }

            if (messages.Count > 0 && messages[^1].Role == role)
            {
                messages[^1].Blocks.AddRange(blocks);
            }
            else
            {
                messages.Add((role, blocks));
            }
        }

        return messages;
    }

    private static void WriteText(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type", "text");
        json.WriteString("text", text);
        json.WriteEndObject();
    }

    private static void WriteToolUse(Utf8JsonWriter json, ToolCall call)
    {
        json.WriteStartObject();
        json.WriteString("type", "tool_use");
        json.WriteString("id", call.Id);
        json.WriteString("name", call.Name);
        json.WritePropertyName("input");
        json.WriteRawValue(AnthropicWire.ToolInput(call.Arguments));
        json.WriteEndObject();
    }

    private static void WriteToolResult(Utf8JsonWriter json, ChatTurn turn)
    {
        json.WriteStartObject();
        json.WriteString("type", "tool_result");
        json.WriteString("tool_use_id", turn.ToolCallId);
        if (turn.Text.Length > 0)
        {
            json.WriteString("content", turn.Text);
        }

        json.WriteEndObject();
    }

    /// <summary>auto, none, any (OpenAI's required) or one tool; sent only with tools, as Anthropic has it.</summary>
    private static void WriteToolChoice(Utf8JsonWriter json, ToolChoice? choice)
    {
        if (choice is null)
        {
            return;
        }

        json.WriteStartObject("tool_choice");
        switch (choice)
        {
            case { Mode: ToolChoice.Function, Name: { } name }:
                json.WriteString("type", "tool");
                json.WriteString("name", name);
                break;
            case { Mode: ToolChoice.Required }:
                json.WriteString("type", "any");
                break;
            case { Mode: ToolChoice.None }:
                json.WriteString("type", "none");
                break;
            default:
                json.WriteString("type", "auto");
                break;
        }

        json.WriteEndObject();
    }

    /// <summary><c>{"type":"error","error":{"type","message"}}</c>: a whole error body, or a stream's <c>error</c> event.</summary>
    private static ChatError Error(JsonElement body)
    {
        var error = body.Property("error");
        return new ChatError(error.String("message") ?? "The provider reported an error.", error.String("type"), null, null);
    }

    /// <summary>
    /// Anthropic's usage, which a stream reports in parts (the input at its start, the output, cumulative, with its
    /// end): input, cache reads and cache writes together are the prompt, as OpenAI counts it.
    /// </summary>
    private sealed class UsageParts
    {
        private int? _input, _output;
        private int _cacheRead, _cacheCreation;

        public void Add(JsonElement usage)
        {
            _input = usage.Count("input_tokens") ?? _input;
            _output = usage.Count("output_tokens") ?? _output;
            _cacheRead = usage.Count("cache_read_input_tokens") ?? _cacheRead;
            _cacheCreation = usage.Count("cache_creation_input_tokens") ?? _cacheCreation;
        }

        public ChatUsage? Total() => _input is { } input && _output is { } output
            ? new ChatUsage(input + _cacheRead + _cacheCreation, output, _cacheRead)
            : null;
    }

    /// <summary>
    /// A stream's events: <c>message_start</c> (model, input usage), a block's start (a <c>tool_use</c> block's id and
    /// name, by block index), its deltas (<c>text_delta</c>, <c>input_json_delta</c>), <c>message_delta</c> (the stop
    /// reason and the usage), <c>message_stop</c> (the end), or <c>error</c>.
    /// </summary>
    private sealed class EventReader : IUpstreamEventReader
    {
        private readonly UsageParts _usage = new();
        private bool _calledTools;

        public UpstreamEvent Read(string eventType, ReadOnlySpan<byte> data)
        {
            using var document = UpstreamProtocols.Parse(data);
            if (document?.RootElement is not { ValueKind: JsonValueKind.Object } root || root.String("type") is not { } type)
            {
                return UpstreamEvent.Malformed;
            }

            switch (type)
            {
                case Events.MessageStart:
                    var message = root.Property("message");
                    _usage.Add(message.Property("usage"));
                    return UpstreamEvent.Of(new ChatPiece(message.String("model"), null, null, null, null));
                case Events.ContentBlockStart when root.Property("content_block") is var block && block.String("type") == "tool_use":
                    if (root.Count("index") is not { } started)
                    {
                        return UpstreamEvent.Malformed;
                    }

                    _calledTools = true;
                    return UpstreamEvent.Of(new ChatPiece(null, null, null, null, null,
                        [new ToolCallPiece(started, block.String("id"), block.String("name"), null)]));
                case Events.ContentBlockDelta:
                    var delta = root.Property("delta");
                    return delta.String("type") switch
                    {
                        "text_delta" when delta.String("text") is { } text => UpstreamEvent.Of(new ChatPiece(null, text, null, null, null)),
                        "input_json_delta" when root.Count("index") is { } index && delta.String("partial_json") is { } json =>
                            UpstreamEvent.Of(new ChatPiece(null, null, null, null, null, [new ToolCallPiece(index, null, null, json)])),
                        "text_delta" or "input_json_delta" => UpstreamEvent.Malformed,
                        // Thinking, signatures, citations: nothing this gateway passes on.
                        _ => UpstreamEvent.Ignored,
                    };
                case Events.MessageDelta:
                    // Without a stop reason the stream has no end that says why, like a chunk stream without a finish reason.
                    _usage.Add(root.Property("usage"));
                    var finishReason = root.Property("delta").String("stop_reason") is { } stopReason
                        ? AnthropicWire.FinishReason(stopReason, _calledTools)
                        : null;
                    return UpstreamEvent.Of(new ChatPiece(null, null, finishReason, _usage.Total(), null));
                case Events.MessageStop:
                    return new UpstreamEvent(true, null);
                case Events.Error:
                    return UpstreamEvent.Of(new ChatPiece(null, null, null, null, Error(root)));
                default:
                    return UpstreamEvent.Ignored;
            }
        }
    }
}
