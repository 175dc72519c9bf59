using StitchFin.Contracts.Providers;

namespace StitchFin.Conversation.Messages;

/// <summary>A streamed reply's beginning: the assistant message it will be stored as, and who is answering.</summary>
public sealed record ReplyStart(Guid AssistantMessageId, DateTimeOffset CreatedAt, string Provider, string Model, bool FallbackUsed);

/// <summary>
/// Where a streamed exchange writes, in the caller's own format (the session API's events, OpenAI chunks). Nothing is
/// written before <see cref="StartAsync"/>, so a failure before the first content is still an ordinary error answer.
/// A write to a client that has gone is ignored: the exchange runs to its end, so a retry finds it stored.
/// </summary>
public interface IReplyStream
{
    /// <summary>The stream's beginning; a delta (or the end) always follows at once, and may carry it in the same packet.</summary>
    ValueTask StartAsync(ReplyStart start);

    ValueTask DeltaAsync(string text);

    /// <summary>The exchange is stored and charged; <paramref name="exchange"/> is its stored response (a <c>MessageExchange</c>).</summary>
    ValueTask CompletedAsync(byte[] exchange);

    /// <summary>The stream failed after it began: nothing was stored and nothing was charged.</summary>
    ValueTask FailedAsync(CompletionFailed failure);
}

/// <summary>A stored exchange told as a stream: its start, its text a word at a time, its end (replays ask for this).</summary>
public static class StoredExchangeStream
{
    public static async Task WriteAsync(IReplyStream stream, byte[] storedExchange)
    {
        var exchange = System.Text.Json.JsonSerializer.Deserialize<Contracts.Conversation.MessageExchange>(storedExchange, ServiceDefaults.Extensions.JsonOptions)
            ?? throw new InvalidOperationException("The stored exchange is empty.");
        var assistant = exchange.AssistantMessage;
        await stream.StartAsync(new ReplyStart(
            assistant.Id, assistant.CreatedAt, exchange.Usage.Provider, exchange.Usage.Model ?? assistant.Model ?? exchange.Usage.Provider, assistant.FallbackUsed ?? false));
        foreach (var delta in ServiceDefaults.OpenAi.ContentDeltas.Split(assistant.Content))
        {
            await stream.DeltaAsync(delta);
        }

        await stream.CompletedAsync(storedExchange);
    }
}
