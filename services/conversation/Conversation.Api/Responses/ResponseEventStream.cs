using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.Translation;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Conversation.Responses;

/// <summary>
/// A reply as the Responses API streams it, each event named by its type and numbered in <c>sequence_number</c>, with
/// one response id and one item id per output item from the first event to the last: <c>response.created</c>,
/// <c>response.in_progress</c>, then the message item (<c>output_item.added</c>, <c>content_part.added</c>,
/// <c>output_text.delta</c>..., <c>output_text.done</c>, <c>content_part.done</c>, <c>output_item.done</c>), then a
/// function call item per tool call, then <c>response.completed</c> (once the exchange is stored). A failure after the
/// first event ends it with <c>response.failed</c>, never with <c>response.completed</c>.
/// </summary>
public sealed class ResponseEventStream(HttpResponse response, JsonElement parameters, string? previousResponseId, bool store, bool replayed) : IReplyStream
{
    private const int MessageIndex = 0;

    private readonly EventStream _events = new(response);
    private readonly StringBuilder _text = new();
    private ReplyStart? _start;
    private bool _messageOpen;
    private int _sequence;

    public ValueTask StartAsync(ReplyStart start)
    {
        _start = start;
        var inProgress = Rendering(start, "in_progress", null);
        return WriteAsync("response.created", w => WriteResponse(w, inProgress), flush: false,
            then: "response.in_progress", thenWrite: w => WriteResponse(w, inProgress));
    }

    public async ValueTask DeltaAsync(string text)
    {
        var itemId = OpenAiResponseObject.MessageItemId(_start!.AssistantMessageId);
        if (!_messageOpen)
        {
            _messageOpen = true;
            await WriteAsync("response.output_item.added", w =>
            {
                w.WriteNumber("output_index", MessageIndex);
                w.WritePropertyName("item");
                OpenAiResponseObject.WriteMessageItem(w, _start.AssistantMessageId, null, "in_progress");
            }, flush: false);
            await WriteAsync("response.content_part.added", w =>
            {
                Part(w, itemId);
                w.WritePropertyName("part");
                OpenAiResponseObject.WriteTextPart(w, "");
            }, flush: false);
        }

        _text.Append(text);
        await WriteAsync("response.output_text.delta", w =>
        {
            Part(w, itemId);
            w.WriteString("delta", text);
            w.WriteStartArray("logprobs");
            w.WriteEndArray();
        });
    }

    public async ValueTask CompletedAsync(byte[] exchange)
    {
        var completed = OpenAiResponseObject.FromExchange(exchange, parameters, previousResponseId, store);
        if (!_messageOpen && (completed.Text.Length > 0 || completed.ToolCalls.Count == 0))
        {
            await DeltaAsync(completed.Text);
        }

        var next = 0;
        if (_messageOpen)
        {
            var itemId = OpenAiResponseObject.MessageItemId(completed.AssistantMessageId);
            await WriteAsync("response.output_text.done", w =>
            {
                Part(w, itemId);
                w.WriteString("text", completed.Text);
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            }, flush: false);
            await WriteAsync("response.content_part.done", w =>
            {
                Part(w, itemId);
                w.WritePropertyName("part");
                OpenAiResponseObject.WriteTextPart(w, completed.Text);
            }, flush: false);
            await WriteAsync("response.output_item.done", w =>
            {
                w.WriteNumber("output_index", MessageIndex);
                w.WritePropertyName("item");
                OpenAiResponseObject.WriteMessageItem(w, completed.AssistantMessageId, completed.Text, "completed");
            }, flush: false);
            next = 1;
        }

        for (var i = 0; i < completed.ToolCalls.Count; i++)
        {
            var (call, index, outputIndex) = (completed.ToolCalls[i], i, next + i);
            var itemId = OpenAiResponseObject.FunctionCallItemId(completed.AssistantMessageId, index);
            await WriteAsync("response.output_item.added", w =>
            {
                w.WriteNumber("output_index", outputIndex);
                w.WritePropertyName("item");
                OpenAiResponseObject.WriteFunctionCallItem(w, completed.AssistantMessageId, index, call, "in_progress");
            }, flush: false);
            await WriteAsync("response.function_call_arguments.delta", w =>
            {
                w.WriteString("item_id", itemId);
                w.WriteNumber("output_index", outputIndex);
                w.WriteString("delta", call.Arguments);
            }, flush: false);
            await WriteAsync("response.function_call_arguments.done", w =>
            {
                w.WriteString("item_id", itemId);
                w.WriteNumber("output_index", outputIndex);
                w.WriteString("arguments", call.Arguments);
            }, flush: false);
            await WriteAsync("response.output_item.done", w =>
            {
                w.WriteNumber("output_index", outputIndex);
                w.WritePropertyName("item");
                OpenAiResponseObject.WriteFunctionCallItem(w, completed.AssistantMessageId, index, call, "completed");
            }, flush: false);
        }

        await WriteAsync("response.completed", w => WriteResponse(w, completed));
    }

    public ValueTask FailedAsync(CompletionFailed failure) =>
        WriteAsync("response.failed", w => WriteResponse(w, Rendering(_start!, "failed",
            "The provider's stream failed before the reply was complete: the text so far is incomplete, nothing was stored or charged, and the request may be retried.")));

    private OpenAiResponseObject.Rendering Rendering(ReplyStart start, string status, string? error) =>
        new(start.AssistantMessageId, start.CreatedAt, start.Model, status, _text.ToString(), [], null, null, parameters, previousResponseId, store, error);

    private static void WriteResponse(Utf8JsonWriter w, OpenAiResponseObject.Rendering rendering)
    {
        w.WritePropertyName("response");
        OpenAiResponseObject.Write(w, rendering);
    }

    private static void Part(Utf8JsonWriter w, string itemId)
    {
        w.WriteString("item_id", itemId);
        w.WriteNumber("output_index", MessageIndex);
        w.WriteNumber("content_index", 0);
    }

    private async ValueTask WriteAsync(string type, Action<Utf8JsonWriter> body, bool flush = true, string? then = null, Action<Utf8JsonWriter>? thenWrite = null)
    {
        if (!_events.Started && replayed)
        {
            _events.Start(r => r.Headers[IdempotencyKey.ReplayedHeaderName] = "true");
        }

        var sequence = _sequence++;
        await _events.WriteAsync(type, OpenAiChatWire.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteNumber("sequence_number", sequence);
            body(w);
            w.WriteEndObject();
        }), flush && then is null);
        if (then is not null)
        {
            await WriteAsync(then, thenWrite!, flush);
        }
    }
}
