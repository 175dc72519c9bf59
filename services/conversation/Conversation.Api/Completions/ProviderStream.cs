using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Completions;

/// <summary>One event after a stream's start: a piece of text, or how the stream ended.</summary>
public abstract record StreamEvent
{
    public sealed record Delta(string Text) : StreamEvent;

    public sealed record Completed(CompletionResult Result) : StreamEvent;

    public sealed record Failed(CompletionFailed Failure) : StreamEvent;
}

/// <summary>
/// A streamed completion from the providers service after its <c>start</c> event: the deltas as they arrive, then
/// exactly one <see cref="StreamEvent.Completed"/> or <see cref="StreamEvent.Failed"/>. A stream that breaks or ends
/// without either ends in <see cref="StreamEvent.Failed"/>: it is never taken for a whole reply.
/// </summary>
public sealed class ProviderStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly IAsyncEnumerator<SseItem<object?>> _events;
    private readonly CancellationTokenSource _limit;

    private ProviderStream(HttpResponseMessage response, IAsyncEnumerator<SseItem<object?>> events, CancellationTokenSource limit, StreamStart start)
    {
        _response = response;
        _events = events;
        _limit = limit;
        Start = start;
    }

    public StreamStart Start { get; }

    /// <summary>Reads the <c>start</c> event; null when the stream does not begin with one.</summary>
    /// <param name="limit">How long the whole stream may still take: what is left of the providers call's timeout.</param>
    public static async Task<ProviderStream?> OpenAsync(HttpResponseMessage response, TimeSpan limit, TimeProvider time)
    {
        // Providers bounds every stream by its own deadline; this bounds a providers service that stopped answering.
        var cancellation = new CancellationTokenSource(limit, time);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellation.Token);
            var events = SseParser.Create(body, static (type, data) => Read(type, data)).EnumerateAsync(cancellation.Token).GetAsyncEnumerator(cancellation.Token);
            if (await events.MoveNextAsync() && events.Current.Data is StreamStart start)
            {
                return new ProviderStream(response, events, cancellation, start);
            }

            await events.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or JsonException or OperationCanceledException)
        {
            // Not a stream that can be relayed.
        }

        cancellation.Dispose();
        return null;
    }

    public async IAsyncEnumerable<StreamEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            StreamEvent? next;
            try
            {
                if (!await _events.MoveNextAsync())
                {
                    next = Broken("The providers stream ended before it completed.");
                }
                else
                {
                    var item = _events.Current;
                    next = item.Data as StreamEvent ?? Broken($"The providers stream sent an unreadable '{item.EventType}' event.");
                }
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
            {
                next = Broken("The providers stream broke off.");
            }

            yield return next;
            if (next is not StreamEvent.Delta)
            {
                yield break;
            }
        }
    }

    /// <summary>An event, read where the parser hands over its bytes: a <see cref="StreamStart"/>, a <see cref="StreamEvent"/>, or null.</summary>
    private static object? Read(string type, ReadOnlySpan<byte> data)
    {
        try
        {
            return type switch
            {
                CompletionStreamEvents.Start => JsonSerializer.Deserialize<StreamStart>(data, JsonDefaults.JsonOptions),
                CompletionStreamEvents.Delta => JsonSerializer.Deserialize<StreamDelta>(data, JsonDefaults.JsonOptions) is { } delta
                    ? new StreamEvent.Delta(delta.Text) : null,
                CompletionStreamEvents.Completed => JsonSerializer.Deserialize<CompletionResult>(data, JsonDefaults.JsonOptions) is { } result
                    ? new StreamEvent.Completed(result) : null,
                CompletionStreamEvents.Failed => JsonSerializer.Deserialize<CompletionFailed>(data, JsonDefaults.JsonOptions) is { } failure
                    ? new StreamEvent.Failed(failure) : null,
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _events.DisposeAsync();
        _response.Dispose();
        _limit.Dispose();
    }

    private static StreamEvent.Failed Broken(string detail) =>
        new(new CompletionFailed(detail, [], CompletionFailureReasons.StreamFailed));
}
