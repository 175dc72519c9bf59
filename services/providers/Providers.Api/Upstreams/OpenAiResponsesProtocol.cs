using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Upstreams;

/// <summary>
/// OpenAI's Responses API, <c>POST {base}/responses</c>, for providers of kind <c>openai-responses</c>. The request is
/// stateless (<c>store: false</c>, no <c>previous_response_id</c>): the gateway keeps the conversation and sends it
/// whole, as it does to chat completions. The agent's system prompt is <c>instructions</c>; every turn is an input item
/// (system and user messages, assistant messages with <c>output_text</c>, <c>function_call</c> and
/// <c>function_call_output</c> items); function tools are sent with <c>strict: false</c>, the meaning they have in chat
/// completions (the Responses API's default is strict). The API has no stop sequences: the adapter cuts the reply.
/// A reply's finish reason: <c>tool_calls</c> when it called functions, <c>length</c> or <c>content_filter</c> for an
/// incomplete response, else <c>stop</c>; its usage: <c>input_tokens</c> (cached ones included, as OpenAI counts),
/// <c>output_tokens</c>, <c>input_tokens_details.cached_tokens</c>.
/// </summary>
public sealed class OpenAiResponsesProtocol : IUpstreamProtocol
{
    /// <summary>The stream's event types this protocol reads; the others add nothing.</summary>
    public static class Events
    {
        public const string Created = "response.created";
        public const string InProgress = "response.in_progress";
        public const string OutputItemAdded = "response.output_item.added";
        public const string OutputTextDelta = "response.output_text.delta";
        public const string FunctionCallArgumentsDelta = "response.function_call_arguments.delta";
        public const string Completed = "response.completed";
        public const string Incomplete = "response.incomplete";
        public const string Failed = "response.failed";
        public const string Error = "error";
    }

    public bool StopsAtSequences => false;

    public void Authenticate(HttpRequestHeaders headers, ProviderEntry provider)
    {
        if (provider.ApiKey is { } key)
        {
            headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public byte[] Request(Target target, NormalizedRequest request, bool stream) => OpenAiChatWire.Write(json =>
    {
        json.WriteStartObject();
        json.WriteString("model", target.Model);
        if (request.SystemPrompt.Length > 0)
        {
            json.WriteString("instructions", request.SystemPrompt);
        }

        json.WriteStartArray("input");
        foreach (var turn in request.Turns)
        {
            WriteItems(json, turn);
        }

        json.WriteEndArray();
        if (request.Tools is { Count: > 0 } tools)
        {
            json.WriteStartArray("tools");
            foreach (var tool in tools)
            {
                json.WriteStartObject();
                json.WriteString("type", "function");
                json.WriteString("name", tool.Name);
                if (tool.Description is not null)
                {
                    json.WriteString("description", tool.Description);
                }

                if (tool.Parameters is { } parameters)
                {
                    json.WritePropertyName("parameters");
                    parameters.WriteTo(json);
                }

                json.WriteBoolean("strict", false);
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        WriteOptions(json, request.Options);
        json.WriteBoolean("stream", stream);
        json.WriteBoolean("store", false);
        json.WriteEndObject();
    });

    public ChatPiece? ReadWhole(ReadOnlySpan<byte> body)
    {
        using var document = UpstreamProtocols.Parse(body);
        if (document?.RootElement is not { ValueKind: JsonValueKind.Object } response)
        {
            return null;
        }

        if (response.Property("error") is { ValueKind: JsonValueKind.Object } error)
        {
            return new ChatPiece(null, null, null, null, Error(error));
        }

        if (response.Property("output") is not { ValueKind: JsonValueKind.Array } output)
        {
            return null;
        }

        var text = new StringBuilder();
        var calls = new List<ToolCallPiece>();
        var index = 0;
        foreach (var item in output.EnumerateArray())
        {
            switch (item.String("type"))
            {
                case "message" when item.Property("content") is { ValueKind: JsonValueKind.Array } content:
                    // Refusal parts are not text (chat completions keeps them apart from the content too).
                    foreach (var part in content.EnumerateArray().Where(p => p.String("type") == "output_text"))
                    {
                        text.Append(part.String("text"));
                    }

                    break;
                case "function_call":
                    calls.Add(new ToolCallPiece(index, item.String("call_id"), item.String("name"), item.String("arguments")));
                    break;
            }

            index++;
        }

        return Finished(response, text.ToString(), calls.Count > 0 ? calls : null);
    }

    public IUpstreamEventReader NewEventReader() => new EventReader();

    /// <summary>What a finished response object says: its model, status (as a finish reason) and usage, with the reply's content.</summary>
    private static ChatPiece? Finished(JsonElement response, string? text, IReadOnlyList<ToolCallPiece>? calls, bool calledTools = false)
    {
        var finishReason = response.String("status") switch
        {
            "completed" => calls is not null || calledTools ? "tool_calls" : "stop",
            "incomplete" => response.Property("incomplete_details").String("reason") == "content_filter"
                ? "content_filter"
                : "length",
            // queued, in_progress (a background response), failed without an error, or no status: not a reply.
            _ => null,
        };
        if (finishReason is null)
        {
            return null;
        }

        return new ChatPiece(response.String("model"), text, finishReason, Usage(response.Property("usage")), null, calls);
    }

    private static ChatUsage? Usage(JsonElement usage) =>
        usage.Count("input_tokens") is { } input && usage.Count("output_tokens") is { } output
            ? new ChatUsage(input, output, Math.Min(input, usage.Property("input_tokens_details").Count("cached_tokens") ?? 0))
            : null;

    /// <summary>An error object: <c>{"message","type","code","param"}</c>, or <c>{"code","message"}</c> as a failed response holds it.</summary>
    private static ChatError Error(JsonElement error, bool typed = true) => new(
        error.String("message") ?? "The provider reported an error.",
        typed ? error.String("type") : null,
        error.String("code"),
        error.String("param"));

    private static void WriteItems(Utf8JsonWriter json, ChatTurn turn)
    {
        switch (turn.Role)
        {
            case ChatRoles.Tool:
                json.WriteStartObject();
                json.WriteString("type", "function_call_output");
                json.WriteString("call_id", turn.ToolCallId);
                json.WriteString("output", turn.Text);
                json.WriteEndObject();
                return;
            case ChatRoles.Assistant:
                if (turn.Text.Length > 0 || turn.ToolCalls is not { Count: > 0 })
                {
                    json.WriteStartObject();
                    json.WriteString("type", "message");
                    json.WriteString("role", ChatRoles.Assistant);
                    json.WriteStartArray("content");
                    json.WriteStartObject();
                    json.WriteString("type", "output_text");
                    json.WriteString("text", turn.Text);
                    json.WriteEndObject();
                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                foreach (var call in turn.ToolCalls ?? [])
                {
                    json.WriteStartObject();
                    json.WriteString("type", "function_call");
                    json.WriteString("call_id", call.Id);
                    json.WriteString("name", call.Name);
                    json.WriteString("arguments", call.Arguments);
                    json.WriteEndObject();
                }

                return;
            default:
                // user and system messages; a system turn keeps its place among the others, as in chat completions.
                json.WriteStartObject();
                json.WriteString("type", "message");
                json.WriteString("role", turn.Role);
                json.WriteStartArray("content");
                json.WriteStartObject();
                json.WriteString("type", "input_text");
                json.WriteString("text", turn.Text);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
                return;
        }
    }

    private static void WriteOptions(Utf8JsonWriter json, GenerationOptions? options)
    {
        if (options is null)
        {
            return;
        }

        if (options.MaxOutputTokens is { } maxTokens)
        {
            json.WriteNumber("max_output_tokens", maxTokens);
        }

        if (options.Temperature is { } temperature)
        {
            json.WriteNumber("temperature", temperature);
        }

        if (options.TopP is { } topP)
        {
            json.WriteNumber("top_p", topP);
        }

        switch (options.ToolChoice)
        {
            case { Mode: ToolChoice.Function, Name: { } name }:
                json.WriteStartObject("tool_choice");
                json.WriteString("type", "function");
                json.WriteString("name", name);
                json.WriteEndObject();
                break;
            case { Mode: var mode }:
                json.WriteString("tool_choice", mode);
                break;
        }
    }

    /// <summary>
    /// A stream's events: text deltas, function calls (an <c>output_item.added</c> with the call's id and name, then its
    /// arguments in deltas, by output index), and the end: <c>response.completed</c> or <c>response.incomplete</c> with
    /// the whole response (status and usage), or <c>response.failed</c> / <c>error</c>.
    /// </summary>
    private sealed class EventReader : IUpstreamEventReader
    {
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
                case Events.Created or Events.InProgress:
                    return UpstreamEvent.Of(new ChatPiece(root.Property("response").String("model"), null, null, null, null));
                case Events.OutputTextDelta:
                    return root.String("delta") is { } delta ? UpstreamEvent.Of(new ChatPiece(null, delta, null, null, null)) : UpstreamEvent.Malformed;
                case Events.OutputItemAdded when root.Property("item") is var item && item.String("type") == "function_call":
                    if (root.Count("output_index") is not { } added)
                    {
                        return UpstreamEvent.Malformed;
                    }

                    _calledTools = true;
                    return UpstreamEvent.Of(new ChatPiece(null, null, null, null, null,
                        [new ToolCallPiece(added, item.String("call_id"), item.String("name"), item.String("arguments"))]));
                case Events.FunctionCallArgumentsDelta:
                    return root.Count("output_index") is { } index && root.String("delta") is { } arguments
                        ? UpstreamEvent.Of(new ChatPiece(null, null, null, null, null, [new ToolCallPiece(index, null, null, arguments)]))
                        : UpstreamEvent.Malformed;
                case Events.Completed or Events.Incomplete:
                    // Text and calls came as deltas; the response gives the status and the usage.
                    return Finished(root.Property("response"), null, null, _calledTools) is { } finished
                        ? new UpstreamEvent(true, finished)
                        : UpstreamEvent.Malformed;
                case Events.Failed:
                    return UpstreamEvent.Of(new ChatPiece(null, null, null, null,
                        Error(root.Property("response").Property("error") is { ValueKind: JsonValueKind.Object } failure ? failure : default)));
                case Events.Error:
                    // {"type":"error","code","message","param"}, or with the fields in an "error" object.
                    return UpstreamEvent.Of(new ChatPiece(null, null, null, null,
                        root.Property("error") is { ValueKind: JsonValueKind.Object } nested ? Error(nested) : Error(root, typed: false)));
                default:
                    return UpstreamEvent.Ignored;
            }
        }
    }
}
