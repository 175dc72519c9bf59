using StitchFin.Conversation.Idempotency;

namespace StitchFin.Conversation.Messages;

/// <summary>
/// Writes a response's stored bytes as they are. The first answer goes through here too, so a replay cannot
/// differ from it by a single byte.
/// </summary>
public sealed class StoredResponse(int statusCode, byte[] body, bool replayed) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        if (replayed)
        {
            response.Headers[IdempotencyKey.ReplayedHeaderName] = "true";
        }

        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}
