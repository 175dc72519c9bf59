using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.Translation;
using StitchFin.ServiceDefaults.Anthropic;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Anthropic;

/// <summary>
/// A reply as Anthropic's stream events, written as it arrives: <c>message_start</c>; a text block opened by the first
/// text delta, a <c>text_delta</c> per delta; once the exchange is stored, the text block's stop, one <c>tool_use</c>
/// block per tool call (its input as one <c>input_json_delta</c>), <c>message_delta</c> and <c>message_stop</c>. A failure
/// after the stream began ends it with an <c>error</c> event and no <c>message_stop</c>, so a client cannot take a
/// cut-off answer for a whole one.
/// </summary>
public sealed class AnthropicMessageStream(HttpResponse response, string requestedModel, bool replayed) : IReplyStream
{
    private const int NoBlock = -1;

    private readonly EventStream _events = new(response);
    private string _model = requestedModel;
    private int _textBlock = NoBlock;
    private int _blocks;

    /// <summary>Whether anything reached the client; until then a failure is an ordinary error answer.</summary>
    public bool Started => _events.Started;

    /// <summary><c>message_start</c>, sent with the first delta (or the end) that always follows it.</summary>
    public ValueTask StartAsync(ReplyStart start)
    {
        _model = start.Model;
        return WriteAsync(AnthropicMessages.Events.MessageStart,
            AnthropicMessages.MessageStart(AnthropicMessages.MessageId(start.AssistantMessageId), start.Model), flush: false);
    }

    public async ValueTask DeltaAsync(string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        if (_textBlock == NoBlock)
        {
            _textBlock = _blocks++;
            await WriteAsync(AnthropicMessages.Events.ContentBlockStart, AnthropicMessages.TextBlockStart(_textBlock), flush: false);
        }

        await WriteAsync(AnthropicMessages.Events.ContentBlockDelta, AnthropicMessages.TextDelta(_textBlock, text));
    }

    public async ValueTask CompletedAsync(byte[] exchange)
    {
        var reply = AnthropicMessages.FromExchange(exchange, _model);
        if (_textBlock != NoBlock)
        {
            await WriteAsync(AnthropicMessages.Events.ContentBlockStop, AnthropicMessages.BlockStop(_textBlock), flush: false);
        }

        foreach (var call in reply.ToolCalls)
        {
            var index = _blocks++;
            await WriteAsync(AnthropicMessages.Events.ContentBlockStart, AnthropicMessages.ToolUseBlockStart(index, call), flush: false);
            await WriteAsync(AnthropicMessages.Events.ContentBlockDelta,
                AnthropicMessages.InputJsonDelta(index, AnthropicWire.ToolInput(call.Arguments)), flush: false);
            await WriteAsync(AnthropicMessages.Events.ContentBlockStop, AnthropicMessages.BlockStop(index), flush: false);
        }

        await WriteAsync(AnthropicMessages.Events.MessageDelta,
            AnthropicMessages.MessageDelta(reply.StopReason, reply.InputTokens, reply.OutputTokens, reply.CacheReadInputTokens), flush: false);
        await WriteAsync(AnthropicMessages.Events.MessageStop, AnthropicMessages.MessageStop());
    }

    public ValueTask FailedAsync(CompletionFailed failure) =>
        WriteAsync(AnthropicMessages.Events.Error, AnthropicMessages.Error(AnthropicMessages.ErrorTypes.Api,
            "The provider's stream failed before the reply was complete; the text above is incomplete, nothing was charged, and the request may be retried."));

    private ValueTask WriteAsync(string eventType, byte[] json, bool flush = true)
    {
        if (!_events.Started && replayed)
        {
            _events.Start(r => r.Headers[IdempotencyKey.ReplayedHeaderName] = "true");
        }

        return _events.WriteAsync(eventType, json, flush);
    }
}
