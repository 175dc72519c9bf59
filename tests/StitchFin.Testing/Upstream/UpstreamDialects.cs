using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace StitchFin.Testing.Upstream;

/// <summary>The APIs <see cref="FaultyUpstream"/> speaks, each at its own path under <see cref="FaultyUpstream.BaseUrl"/>.</summary>
public enum UpstreamApi
{
    /// <summary>OpenAI's <c>POST /v1/chat/completions</c>.</summary>
    ChatCompletions,

    /// <summary>OpenAI's Responses API, <c>POST /v1/responses</c>.</summary>
    Responses,

    /// <summary>Anthropic's Messages API, <c>POST /v1/messages</c> (<c>x-api-key</c>, <c>anthropic-version</c>).</summary>
    AnthropicMessages,
}

/// <summary>One server-sent event: its <c>event:</c> line (none in chat completions) and its data.</summary>
internal readonly record struct UpstreamFrame(string? EventType, byte[] Data);

/// <summary>What a request body says, in any of the APIs; <see cref="Error"/> says why it is rejected.</summary>
internal sealed record ParsedBody(
    string Model,
    bool Stream,
    bool IncludeUsage,
    string? System,
    IReadOnlyList<UpstreamMessage> Messages,
    string? Error,
    string? ErrorParam)
{
    public int PromptCharacters => (System?.Length ?? 0) + Messages.Sum(m => m.Content.Length);

    public static ParsedBody Invalid(string error, string? param = null, string model = "", bool stream = false) =>
        new(model, stream, false, null, [], error, param);
}

/// <summary>
/// One API's wire format as <see cref="FaultyUpstream"/> writes it: what a request must hold, whole answers, streams
/// event by event, and errors. The steps (<see cref="UpstreamStep"/>) say what happens; the dialect says how it looks.
/// </summary>
internal abstract class UpstreamDialect
{
    public static readonly UpstreamDialect Chat = new ChatDialect();
    public static readonly UpstreamDialect Responses = new ResponsesDialect();
    public static readonly UpstreamDialect Anthropic = new AnthropicDialect();

    public abstract UpstreamApi Api { get; }

    public abstract string Path { get; }

    /// <summary>What every answer's id begins with.</summary>
    public abstract string IdPrefix { get; }

    public static UpstreamDialect? ForPath(string? path) =>
        path == Chat.Path ? Chat : path == Responses.Path ? Responses : path == Anthropic.Path ? Anthropic : null;

    /// <summary>Whether the request carries the key the way this API expects it.</summary>
    public virtual bool Authorized(IHeaderDictionary headers, string apiKey) => headers.Authorization.ToString() == $"Bearer {apiKey}";

    public abstract ParsedBody Parse(string body, IHeaderDictionary headers);

    /// <summary>A whole answer: its text (unless empty and it calls tools), its calls, and the finish reason (null: none).</summary>
    public abstract byte[] Whole(UpstreamCompletion c, string? finishReason, IReadOnlyList<UpstreamToolCall> calls);

    public abstract UpstreamStreamWriter Stream(UpstreamCompletion c, bool includeUsage);

    /// <summary>An error body; <paramref name="type"/>, <paramref name="param"/> and <paramref name="code"/> are OpenAI's words for it.</summary>
    public abstract byte[] Error(int status, string message, string type, string? param, string? code, int? retryAfterMs);

    /// <summary>The deliberately truncated event <see cref="UpstreamStep.InvalidEvent"/> inserts.</summary>
    public abstract UpstreamFrame BrokenEvent { get; }

    /// <summary>How this API says the prompt is too long for the model.</summary>
    public abstract (string Message, string? Param, string? Code) ContextLengthExceeded { get; }

    public virtual (string Message, string? Param, string? Code) ContentPolicyViolation =>
        ("Your request was rejected as a result of our safety system.", null, "content_policy_violation");

    protected static UpstreamFrame Data(byte[] data) => new(null, data);

    protected static JsonDocument? TryParse(string body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    protected static string? StringOf(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Content as text: a string, or the <c>text</c> of each part of an array, joined; anything else is its JSON.</summary>
    protected static string TextOf(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(part => StringOf(part, "text") ?? StringOf(part, "content") ?? "")),
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        _ => content.GetRawText(),
    };
}

/// <summary>Writes one streamed answer, event by event, keeping whatever the API needs between events.</summary>
internal abstract class UpstreamStreamWriter
{
    /// <summary>What comes before the first content (a role chunk, <c>message_start</c>, <c>response.created</c>).</summary>
    public abstract IEnumerable<UpstreamFrame> Opening();

    public abstract IEnumerable<UpstreamFrame> Text(string text);

    public abstract IEnumerable<UpstreamFrame> ToolCallStart(int index, UpstreamToolCall call);

    public abstract IEnumerable<UpstreamFrame> ToolCallArguments(int index, string fragment);

    /// <summary>The finish (with <paramref name="finishReason"/> null: the events that close the reply, without saying why) and the usage.</summary>
    public abstract IEnumerable<UpstreamFrame> Finish(string? finishReason);

    /// <summary>The stream's last event.</summary>
    public abstract IEnumerable<UpstreamFrame> Done();
}

/// <summary>OpenAI's chat completions (<see cref="UpstreamWire"/>).</summary>
internal sealed class ChatDialect : UpstreamDialect
{
    public override UpstreamApi Api => UpstreamApi.ChatCompletions;

    public override string Path => "/v1/chat/completions";

    public override string IdPrefix => "chatcmpl-";

    public override UpstreamFrame BrokenEvent { get; } = Data(UpstreamWire.BrokenEvent);

    public override (string Message, string? Param, string? Code) ContextLengthExceeded =>
        ("This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
            "messages", "context_length_exceeded");

    public override ParsedBody Parse(string body, IHeaderDictionary headers)
    {
        using var document = TryParse(body);
        if (document is null)
        {
            return ParsedBody.Invalid("We could not parse the JSON body of your request: it is not valid JSON.");
        }

        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return ParsedBody.Invalid("We could not parse the JSON body of your request: it is not a JSON object.");
        }

        var model = StringOf(root, "model");
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = root.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
        var messages = new List<UpstreamMessage>();
        if (root.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object))
            {
                messages.Add(new UpstreamMessage(StringOf(message, "role") ?? "", message.TryGetProperty("content", out var c) ? TextOf(c) : ""));
            }
        }

        return model is null
            ? new("", stream, includeUsage, null, messages, "you must provide a model parameter", "model")
            : new(model, stream, includeUsage, null, messages, null, null);
    }

    public override byte[] Whole(UpstreamCompletion c, string? finishReason, IReadOnlyList<UpstreamToolCall> calls) =>
        calls.Count > 0 ? UpstreamWire.ToolCallCompletion(c, calls) : UpstreamWire.Completion(c, finishReason);

    public override UpstreamStreamWriter Stream(UpstreamCompletion c, bool includeUsage) => new Writer(c, includeUsage);

    public override byte[] Error(int status, string message, string type, string? param, string? code, int? retryAfterMs) =>
        UpstreamWire.Error(message, type, param, code, retryAfterMs);

    private sealed class Writer(UpstreamCompletion c, bool includeUsage) : UpstreamStreamWriter
    {
        public override IEnumerable<UpstreamFrame> Opening() => [Data(UpstreamWire.RoleChunk(c, includeUsage))];

        public override IEnumerable<UpstreamFrame> Text(string text) => [Data(UpstreamWire.ContentChunk(c, includeUsage, text))];

        public override IEnumerable<UpstreamFrame> ToolCallStart(int index, UpstreamToolCall call) =>
            [Data(UpstreamWire.ToolCallChunk(c, includeUsage, index, call.Id, call.Name, ""))];

        public override IEnumerable<UpstreamFrame> ToolCallArguments(int index, string fragment) =>
            [Data(UpstreamWire.ToolCallChunk(c, includeUsage, index, null, null, fragment))];

        public override IEnumerable<UpstreamFrame> Finish(string? finishReason)
        {
            if (finishReason is not null)
            {
                yield return Data(UpstreamWire.FinishChunk(c, includeUsage, finishReason));
            }

            if (includeUsage && !c.OmitUsage)
            {
                yield return Data(UpstreamWire.UsageChunk(c));
            }
        }

        public override IEnumerable<UpstreamFrame> Done() => [Data("[DONE]"u8.ToArray())];
    }
}

/// <summary>
/// OpenAI's Responses API: a request has <c>model</c> and <c>input</c> (a string or items; <c>instructions</c> is the
/// system message); a reply is a <c>response</c> object with <c>output</c> items and <c>usage</c>
/// (<c>input_tokens</c>, <c>output_tokens</c>, <c>input_tokens_details.cached_tokens</c>); a stream is typed events with
/// a <c>sequence_number</c>, ending with <c>response.completed</c> (or <c>response.incomplete</c>). There is no
/// <c>[DONE]</c>.
/// </summary>
internal sealed class ResponsesDialect : UpstreamDialect
{
    public override UpstreamApi Api => UpstreamApi.Responses;

    public override string Path => "/v1/responses";

    public override string IdPrefix => "resp_";

    public override UpstreamFrame BrokenEvent { get; } =
        new("response.output_text.delta", """{"type":"response.output_text.delta","sequence_number":9,"item_id":"msg_broken","delta":"x"""u8.ToArray());

    public override (string Message, string? Param, string? Code) ContextLengthExceeded =>
        ("Your input exceeds the context window of this model. Please adjust your input and try again.", "input", "context_length_exceeded");

    public override ParsedBody Parse(string body, IHeaderDictionary headers)
    {
        using var document = TryParse(body);
        if (document?.RootElement is not { ValueKind: JsonValueKind.Object } root)
        {
            return ParsedBody.Invalid("We could not parse the JSON body of your request.");
        }

        var model = StringOf(root, "model");
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (model is null)
        {
            return ParsedBody.Invalid("Missing required parameter: 'model'.", "model", stream: stream);
        }

        var messages = new List<UpstreamMessage>();
        if (!root.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return ParsedBody.Invalid("Missing required parameter: 'input'.", "input", model, stream);
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            messages.Add(new UpstreamMessage("user", input.GetString()!));
        }
        else
        {
            foreach (var item in input.EnumerateArray())
            {
                switch (StringOf(item, "type") ?? "message")
                {
                    case "message":
                        messages.Add(new UpstreamMessage(StringOf(item, "role") ?? "", item.TryGetProperty("content", out var content) ? TextOf(content) : ""));
                        break;
                    case "function_call":
                        messages.Add(new UpstreamMessage("function_call", $"{StringOf(item, "name")}({StringOf(item, "arguments")})"));
                        break;
                    case "function_call_output":
                        messages.Add(new UpstreamMessage("function_call_output", StringOf(item, "output") ?? ""));
                        break;
                }
            }
        }

        return new(model, stream, false, StringOf(root, "instructions"), messages, null, null);
    }

    public override byte[] Whole(UpstreamCompletion c, string? finishReason, IReadOnlyList<UpstreamToolCall> calls) =>
        UpstreamWire.Write(w => WriteResponse(w, c, finishReason, c.Text, calls.Select(call => (call, $"fc_{call.Id}")).ToList(), $"msg_{c.Id}"));

    public override UpstreamStreamWriter Stream(UpstreamCompletion c, bool includeUsage) => new Writer(c);

    public override byte[] Error(int status, string message, string type, string? param, string? code, int? retryAfterMs) =>
        UpstreamWire.Error(message, type, param, code, retryAfterMs);

    /// <summary>A <c>response</c> object: <c>completed</c>, <c>incomplete</c> (a length finish) or, without a finish reason, <c>in_progress</c>.</summary>
    private static void WriteResponse(
        Utf8JsonWriter w, UpstreamCompletion c, string? finishReason, string text, IReadOnlyList<(UpstreamToolCall Call, string ItemId)> calls, string messageId)
    {
        var status = finishReason switch { null => "in_progress", "length" => "incomplete", _ => "completed" };
        w.WriteStartObject();
        w.WriteString("id", c.Id);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", c.Created);
        w.WriteString("status", status);
        w.WriteNull("error");
        if (status == "incomplete")
        {
            w.WriteStartObject("incomplete_details");
            w.WriteString("reason", "max_output_tokens");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details");
        }

        w.WriteString("model", c.Model);
        w.WriteStartArray("output");
        if (text.Length > 0 || calls.Count == 0)
        {
            WriteMessageItem(w, messageId, text, "completed");
        }

        foreach (var (call, itemId) in calls)
        {
            WriteFunctionCallItem(w, itemId, call, call.Arguments, "completed");
        }

        w.WriteEndArray();
        w.WriteBoolean("store", false);
        if (c.OmitUsage || status == "in_progress")
        {
            w.WriteNull("usage");
        }
        else
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", c.Usage.PromptTokens);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", c.Usage.CachedTokens);
            w.WriteEndObject();
            w.WriteNumber("output_tokens", c.Usage.CompletionTokens);
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", 0);
            w.WriteEndObject();
            w.WriteNumber("total_tokens", c.Usage.TotalTokens);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteMessageItem(Utf8JsonWriter w, string id, string? text, string status)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "message");
        w.WriteString("status", status);
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        if (text is not null)
        {
            WriteTextPart(w, text);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteTextPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteString("text", text);
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteFunctionCallItem(Utf8JsonWriter w, string id, UpstreamToolCall call, string arguments, string status)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "function_call");
        w.WriteString("status", status);
        w.WriteString("call_id", call.Id);
        w.WriteString("name", call.Name);
        w.WriteString("arguments", arguments);
        w.WriteEndObject();
    }

    /// <summary>The event sequence of a streamed response, with one id for the response and one per item throughout.</summary>
    private sealed class Writer(UpstreamCompletion c) : UpstreamStreamWriter
    {
        private readonly StringBuilder _text = new();
        private readonly List<(UpstreamToolCall Call, string ItemId)> _calls = [];
        private readonly StringBuilder _arguments = new();
        private int _sequence;
        private int _outputIndex = -1;
        private string? _open;
        private string? _finishReason;

        private string MessageId => $"msg_{c.Id}";

        public override IEnumerable<UpstreamFrame> Opening() =>
        [
            Event("response.created", w => Response(w, "in_progress")),
            Event("response.in_progress", w => Response(w, "in_progress")),
        ];

        public override IEnumerable<UpstreamFrame> Text(string text)
        {
            if (_open != "message")
            {
                foreach (var frame in Close())
                {
                    yield return frame;
                }

                _open = "message";
                _outputIndex++;
                yield return Event("response.output_item.added", w =>
                {
                    w.WriteNumber("output_index", _outputIndex);
                    w.WritePropertyName("item");
                    WriteMessageItem(w, MessageId, null, "in_progress");
                });
                yield return Event("response.content_part.added", w =>
                {
                    PartHead(w);
                    w.WritePropertyName("part");
                    WriteTextPart(w, "");
                });
            }

            _text.Append(text);
            yield return Event("response.output_text.delta", w =>
            {
                PartHead(w);
                w.WriteString("delta", text);
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            });
        }

        public override IEnumerable<UpstreamFrame> ToolCallStart(int index, UpstreamToolCall call)
        {
            foreach (var frame in Close())
            {
                yield return frame;
            }

            _open = "function_call";
            _outputIndex++;
            _arguments.Clear();
            _calls.Add((call, $"fc_{call.Id}"));
            yield return Event("response.output_item.added", w =>
            {
                w.WriteNumber("output_index", _outputIndex);
                w.WritePropertyName("item");
                WriteFunctionCallItem(w, _calls[^1].ItemId, call, "", "in_progress");
            });
        }

        public override IEnumerable<UpstreamFrame> ToolCallArguments(int index, string fragment)
        {
            _arguments.Append(fragment);
            yield return Event("response.function_call_arguments.delta", w =>
            {
                w.WriteString("item_id", _calls[^1].ItemId);
                w.WriteNumber("output_index", _outputIndex);
                w.WriteString("delta", fragment);
            });
        }

        public override IEnumerable<UpstreamFrame> Finish(string? finishReason)
        {
            _finishReason = finishReason;
            return Close();
        }

        /// <summary><c>response.completed</c> (or <c>response.incomplete</c>) with the whole response; nothing without a finish reason.</summary>
        public override IEnumerable<UpstreamFrame> Done() => _finishReason is null
            ? []
            : [Event(_finishReason == "length" ? "response.incomplete" : "response.completed", w =>
                {
                    w.WritePropertyName("response");
                    WriteResponse(w, c, _finishReason, _text.ToString(), _calls, MessageId);
                })];

        /// <summary>The done events of the item still open.</summary>
        private IEnumerable<UpstreamFrame> Close()
        {
            var open = _open;
            _open = null;
            if (open == "message")
            {
                var text = _text.ToString();
                yield return Event("response.output_text.done", w =>
                {
                    PartHead(w);
                    w.WriteString("text", text);
                });
                yield return Event("response.content_part.done", w =>
                {
                    PartHead(w);
                    w.WritePropertyName("part");
                    WriteTextPart(w, text);
                });
                yield return Event("response.output_item.done", w =>
                {
                    w.WriteNumber("output_index", _outputIndex);
                    w.WritePropertyName("item");
                    WriteMessageItem(w, MessageId, text, "completed");
                });
            }
            else if (open == "function_call")
            {
                var (call, itemId) = _calls[^1];
                var arguments = _arguments.ToString();
                yield return Event("response.function_call_arguments.done", w =>
                {
                    w.WriteString("item_id", itemId);
                    w.WriteNumber("output_index", _outputIndex);
                    w.WriteString("arguments", arguments);
                });
                yield return Event("response.output_item.done", w =>
                {
                    w.WriteNumber("output_index", _outputIndex);
                    w.WritePropertyName("item");
                    WriteFunctionCallItem(w, itemId, call, arguments, "completed");
                });
            }
        }

        private void PartHead(Utf8JsonWriter w)
        {
            w.WriteString("item_id", MessageId);
            w.WriteNumber("output_index", _outputIndex);
            w.WriteNumber("content_index", 0);
        }

        private void Response(Utf8JsonWriter w, string status)
        {
            w.WriteStartObject("response");
            w.WriteString("id", c.Id);
            w.WriteString("object", "response");
            w.WriteNumber("created_at", c.Created);
            w.WriteString("status", status);
            w.WriteString("model", c.Model);
            w.WriteStartArray("output");
            w.WriteEndArray();
            w.WriteNull("usage");
            w.WriteEndObject();
        }

        private UpstreamFrame Event(string type, Action<Utf8JsonWriter> body)
        {
            var sequence = _sequence++;
            return new UpstreamFrame(type, UpstreamWire.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("type", type);
                w.WriteNumber("sequence_number", sequence);
                body(w);
                w.WriteEndObject();
            }));
        }
    }
}

/// <summary>
/// Anthropic's Messages API: a request needs <c>x-api-key</c>, <c>anthropic-version</c>, <c>model</c>,
/// <c>max_tokens</c> and <c>messages</c> (<c>system</c> apart); a reply is a <c>message</c> with content blocks
/// (<c>text</c>, <c>tool_use</c>), a <c>stop_reason</c> and <c>usage</c> (<c>input_tokens</c> without the cache reads,
/// which are <c>cache_read_input_tokens</c>); a stream is <c>message_start</c>, a <c>ping</c>, content blocks
/// (start, deltas, stop), <c>message_delta</c> with the stop reason and the output tokens, <c>message_stop</c>.
/// Errors are <c>{"type":"error","error":{"type","message"}}</c>.
/// </summary>
internal sealed class AnthropicDialect : UpstreamDialect
{
    public const string Version = "2023-06-01";

    public override UpstreamApi Api => UpstreamApi.AnthropicMessages;

    public override string Path => "/v1/messages";

    public override string IdPrefix => "msg_";

    public override UpstreamFrame BrokenEvent { get; } =
        new("content_block_delta", """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"""u8.ToArray());

    public override (string Message, string? Param, string? Code) ContextLengthExceeded => ("prompt is too long: 210000 tokens > 200000 maximum", null, null);

    public override (string Message, string? Param, string? Code) ContentPolicyViolation => ("Output blocked by content filtering policy", null, null);

    public override bool Authorized(IHeaderDictionary headers, string apiKey) => headers["x-api-key"].ToString() == apiKey;

    public override ParsedBody Parse(string body, IHeaderDictionary headers)
    {
        using var document = TryParse(body);
        if (document?.RootElement is not { ValueKind: JsonValueKind.Object } root)
        {
            return ParsedBody.Invalid("The request body is not valid JSON.");
        }

        var model = StringOf(root, "model");
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (model is null)
        {
            return ParsedBody.Invalid("model: Field required", "model", stream: stream);
        }

        if (string.IsNullOrEmpty(headers["anthropic-version"]))
        {
            return ParsedBody.Invalid("anthropic-version: header is required", null, model, stream);
        }

        if (!root.TryGetProperty("max_tokens", out var maxTokens) || maxTokens.ValueKind != JsonValueKind.Number)
        {
            return ParsedBody.Invalid("max_tokens: Field required", "max_tokens", model, stream);
        }

        if (!root.TryGetProperty("messages", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return ParsedBody.Invalid("messages: Field required", "messages", model, stream);
        }

        var messages = list.EnumerateArray()
            .Select(m => new UpstreamMessage(StringOf(m, "role") ?? "", m.TryGetProperty("content", out var content) ? TextOf(content) : ""))
            .ToList();
        var system = root.TryGetProperty("system", out var systemElement) ? TextOf(systemElement) : null;
        return new(model, stream, false, system, messages, null, null);
    }

    public override byte[] Whole(UpstreamCompletion c, string? finishReason, IReadOnlyList<UpstreamToolCall> calls) => UpstreamWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", c.Id);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", c.Model);
        w.WriteStartArray("content");
        if (c.Text.Length > 0 || calls.Count == 0)
        {
            w.WriteStartObject();
            w.WriteString("type", "text");
            w.WriteString("text", c.Text);
            w.WriteEndObject();
        }

        foreach (var call in calls)
        {
            WriteToolUse(w, call, call.Arguments);
        }

        w.WriteEndArray();
        WriteStopReason(w, finishReason);
        w.WriteNull("stop_sequence");
        if (!c.OmitUsage)
        {
            WriteUsage(w, c.Usage, c.Usage.CompletionTokens);
        }

        w.WriteEndObject();
    });

    public override UpstreamStreamWriter Stream(UpstreamCompletion c, bool includeUsage) => new Writer(c);

    public override byte[] Error(int status, string message, string type, string? param, string? code, int? retryAfterMs) => UpstreamWire.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", ErrorType(status));
        w.WriteString("message", message);
        w.WriteEndObject();
        if (retryAfterMs is { } ms)
        {
            w.WriteNumber("retryAfterMs", ms);
        }

        w.WriteEndObject();
    });

    private static string ErrorType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>OpenAI's finish reason in Anthropic's words (spelled out here, apart from the gateway's own table).</summary>
    private static void WriteStopReason(Utf8JsonWriter w, string? finishReason)
    {
        if (finishReason is null)
        {
            w.WriteNull("stop_reason");
            return;
        }

        w.WriteString("stop_reason", finishReason switch
        {
            "length" => "max_tokens",
            "tool_calls" => "tool_use",
            "content_filter" => "refusal",
            _ => "end_turn",
        });
    }

    private static void WriteToolUse(Utf8JsonWriter w, UpstreamToolCall call, string input)
    {
        w.WriteStartObject();
        w.WriteString("type", "tool_use");
        w.WriteString("id", call.Id);
        w.WriteString("name", call.Name);
        w.WritePropertyName("input");
        w.WriteRawValue(input);
        w.WriteEndObject();
    }

    /// <summary>Anthropic counts the prompt's cache reads apart from its input tokens.</summary>
    private static void WriteUsage(Utf8JsonWriter w, UpstreamUsage usage, int outputTokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", usage.PromptTokens - usage.CachedTokens);
        w.WriteNumber("cache_creation_input_tokens", 0);
        w.WriteNumber("cache_read_input_tokens", usage.CachedTokens);
        w.WriteNumber("output_tokens", outputTokens);
        w.WriteEndObject();
    }

    private sealed class Writer(UpstreamCompletion c) : UpstreamStreamWriter
    {
        private int _blocks;
        private int? _open;
        private bool _openIsText;

        public override IEnumerable<UpstreamFrame> Opening() =>
        [
            Event("message_start", w =>
            {
                w.WriteStartObject("message");
                w.WriteString("id", c.Id);
                w.WriteString("type", "message");
                w.WriteString("role", "assistant");
                w.WriteString("model", c.Model);
                w.WriteStartArray("content");
                w.WriteEndArray();
                w.WriteNull("stop_reason");
                w.WriteNull("stop_sequence");
                if (!c.OmitUsage)
                {
                    // The output so far: Anthropic's first count is 1.
                    WriteUsage(w, c.Usage, 1);
                }

                w.WriteEndObject();
            }),
            Event("ping", _ => { }),
        ];

        public override IEnumerable<UpstreamFrame> Text(string text)
        {
            if (_open is null || !_openIsText)
            {
                foreach (var frame in Close())
                {
                    yield return frame;
                }

                _open = _blocks++;
                _openIsText = true;
                var index = _open.Value;
                yield return Event("content_block_start", w =>
                {
                    w.WriteNumber("index", index);
                    w.WriteStartObject("content_block");
                    w.WriteString("type", "text");
                    w.WriteString("text", "");
                    w.WriteEndObject();
                });
            }

            var at = _open!.Value;
            yield return Event("content_block_delta", w =>
            {
                w.WriteNumber("index", at);
                w.WriteStartObject("delta");
                w.WriteString("type", "text_delta");
                w.WriteString("text", text);
                w.WriteEndObject();
            });
        }

        public override IEnumerable<UpstreamFrame> ToolCallStart(int index, UpstreamToolCall call)
        {
            foreach (var frame in Close())
            {
                yield return frame;
            }

            _open = _blocks++;
            _openIsText = false;
            var at = _open.Value;
            yield return Event("content_block_start", w =>
            {
                w.WriteNumber("index", at);
                w.WritePropertyName("content_block");
                WriteToolUse(w, call, "{}");
            });
        }

        public override IEnumerable<UpstreamFrame> ToolCallArguments(int index, string fragment)
        {
            var at = _open!.Value;
            yield return Event("content_block_delta", w =>
            {
                w.WriteNumber("index", at);
                w.WriteStartObject("delta");
                w.WriteString("type", "input_json_delta");
                w.WriteString("partial_json", fragment);
                w.WriteEndObject();
            });
        }

        public override IEnumerable<UpstreamFrame> Finish(string? finishReason)
        {
            foreach (var frame in Close())
            {
                yield return frame;
            }

            yield return Event("message_delta", w =>
            {
                w.WriteStartObject("delta");
                WriteStopReason(w, finishReason);
                w.WriteNull("stop_sequence");
                w.WriteEndObject();
                if (!c.OmitUsage)
                {
                    w.WriteStartObject("usage");
                    w.WriteNumber("output_tokens", c.Usage.CompletionTokens);
                    w.WriteEndObject();
                }
            });
        }

        public override IEnumerable<UpstreamFrame> Done() => [Event("message_stop", _ => { })];

        private IEnumerable<UpstreamFrame> Close()
        {
            if (_open is { } index)
            {
                _open = null;
                yield return Event("content_block_stop", w => w.WriteNumber("index", index));
            }
        }

        private static UpstreamFrame Event(string type, Action<Utf8JsonWriter> body) => new(type, UpstreamWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            body(w);
            w.WriteEndObject();
        }));
    }
}
