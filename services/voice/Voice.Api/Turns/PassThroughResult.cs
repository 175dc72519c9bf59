namespace StitchFin.Voice.Turns;

/// <summary>Conversation's own answer (status, content type, body and <c>Retry-After</c>), relayed byte for byte.</summary>
public sealed class PassThroughResult(int status, string? contentType, byte[] body, string? retryAfter = null) : IResult
{
    public int StatusCode => status;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            httpContext.Response.Headers.RetryAfter = retryAfter;
        }

        if (body.Length == 0)
        {
            // Nothing to relay: the status-code-pages middleware writes a problem for the bare status.
            return Task.CompletedTask;
        }

        httpContext.Response.ContentType = contentType;
        httpContext.Response.ContentLength = body.Length;
        return httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted).AsTask();
    }
}
