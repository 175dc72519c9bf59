using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// A reply as OpenAI <c>chat.completion.chunk</c> events, written as it arrives: the role, each content delta, then
/// (once the exchange is stored) the tool calls whole in one chunk, the finish, usage when asked and <c>[DONE]</c>. A failure after the first chunk ends
/// the stream with an error event and no <c>[DONE]</c>, so a client cannot take a cut-off answer for a whole one.
/// </summary>
public sealed class ChatCompletionStream(HttpResponse response, bool includeUsage, bool replayed) : IReplyStream
{
    public const string InterruptedCode = "stream_interrupted";

    private readonly EventStream _events = new(response);
    private ChatCompletionHeader _header;

    /// <summary>Whether anything reached the client; until then a failure is an ordinary error answer.</summary>
    public bool Started => _events.Started;

    /// <summary>The role chunk, sent with the first delta that always follows it.</summary>
    public ValueTask StartAsync(ReplyStart start)
    {
        _header = ChatCompletion.HeaderFor(start.AssistantMessageId, start.CreatedAt, start.Model);
        return WriteAsync(OpenAiChatWire.Write(json => OpenAiChatWire.WriteChunk(json, _header, "assistant", "", null, includeUsage)), flush: false);
    }

    public ValueTask DeltaAsync(string text) =>
        WriteAsync(OpenAiChatWire.Write(json => OpenAiChatWire.WriteChunk(json, _header, null, text, null, includeUsage)));

    public async ValueTask CompletedAsync(byte[] exchange)
    {
        var completion = ChatCompletion.FromExchange(exchange, _header.Model);
        if (completion.ToolCalls.Count > 0)
        {
            await WriteAsync(OpenAiChatWire.Write(json => OpenAiChatWire.WriteToolCallsChunk(json, _header, completion.ToolCalls, includeUsage)));
        }

        await WriteAsync(OpenAiChatWire.Write(json => OpenAiChatWire.WriteChunk(json, _header, null, null, completion.FinishReason, includeUsage)));
        if (includeUsage)
        {
            await WriteAsync(OpenAiChatWire.Write(json => OpenAiChatWire.WriteUsageChunk(json, _header, completion.Usage)));
        }

        await _events.WriteAsync(null, OpenAiChatWire.Done);
    }

    public ValueTask FailedAsync(CompletionFailed failure) =>
        WriteAsync(OpenAiError.Serialize(
            "The provider's stream failed before the reply was complete; the text above is incomplete, nothing was charged, and the request may be retried.",
            OpenAiError.ServerError, null, InterruptedCode));

    private ValueTask WriteAsync(byte[] json, bool flush = true)
    {
        if (!_events.Started && replayed)
        {
            _events.Start(r => r.Headers[IdempotencyKey.ReplayedHeaderName] = "true");
        }

        return _events.WriteAsync(null, json, flush);
    }
}
