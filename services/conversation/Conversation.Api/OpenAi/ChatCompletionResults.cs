using Microsoft.AspNetCore.Http.Features;
using StitchFin.Conversation.Idempotency;

namespace StitchFin.Conversation.OpenAi;

/// <summary>A non-streamed answer: the <c>chat.completion</c> JSON.</summary>
public sealed class ChatCompletionResult(ChatCompletion completion, bool replayed) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var body = completion.ToJson();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        if (replayed)
        {
            response.Headers[IdempotencyKey.ReplayedHeaderName] = "true";
        }

        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}

/// <summary>
/// A streamed answer as server-sent events. The exchange is complete (and stored) before the first byte, so a
/// fallback between providers never shows in the stream; a failure while writing ends the stream with an error
/// event and without <c>[DONE]</c>, so a client cannot take a cut-off answer for a whole one.
/// </summary>
public sealed partial class ChatCompletionStreamResult(ChatCompletion completion, bool includeUsage, bool replayed) : IResult, IStatusCodeHttpResult
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        // Tells buffering proxies (nginx and alike) in front of the edge to pass events on as they come.
        response.Headers["X-Accel-Buffering"] = "no";
        if (replayed)
        {
            response.Headers[IdempotencyKey.ReplayedHeaderName] = "true";
        }

        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var failure = await WriteEventsAsync(response.Body, completion, ContentDeltas.Split(completion.Content), includeUsage, httpContext.RequestAborted);
        if (failure is not null)
        {
            LogStreamFailed(httpContext.RequestServices.GetRequiredService<ILogger<ChatCompletionStreamResult>>(), completion.Id, failure);
        }
    }

    /// <returns>Null when the stream ended with <c>[DONE]</c>; otherwise what broke it (an error event was sent in its place).</returns>
    public static async Task<Exception?> WriteEventsAsync(
        Stream body, ChatCompletion completion, IEnumerable<string> deltas, bool includeUsage, CancellationToken cancellationToken)
    {
        try
        {
            await WriteEventAsync(body, completion.Chunk("assistant", "", finished: false, includeUsage), cancellationToken);
            foreach (var delta in deltas)
            {
                await WriteEventAsync(body, completion.Chunk(null, delta, finished: false, includeUsage), cancellationToken);
            }

            await WriteEventAsync(body, completion.Chunk(null, null, finished: true, includeUsage), cancellationToken);
            if (includeUsage)
            {
                await WriteEventAsync(body, completion.UsageChunk(), cancellationToken);
            }

            await body.WriteAsync(Done, cancellationToken);
            await body.FlushAsync(cancellationToken);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away: there is no one left to tell.
            return null;
        }
        catch (Exception ex)
        {
            try
            {
                var error = OpenAiError.Serialize(
                    "The stream was interrupted before the completion was fully sent; the answer above is incomplete.",
                    OpenAiError.ServerError, null, "stream_interrupted");
                await WriteEventAsync(body, error, cancellationToken);
            }
            catch (Exception writeFailure) when (writeFailure is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The connection itself is gone; the client sees a broken transfer, not a clean end.
            }

            return ex;
        }
    }

    private static async Task WriteEventAsync(Stream body, byte[] json, CancellationToken cancellationToken)
    {
        await body.WriteAsync(DataPrefix, cancellationToken);
        await body.WriteAsync(json, cancellationToken);
        await body.WriteAsync(EventEnd, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Streaming completion {CompletionId} failed after its first byte; it ended with an error event")]
    private static partial void LogStreamFailed(ILogger logger, string completionId, Exception exception);
}
