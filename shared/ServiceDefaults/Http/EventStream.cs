using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// A server-sent event stream written as events happen: headers at the first event, then each event flushed at once,
/// so nothing on the way waits for the next one. Replies are pushed by whatever produces them (an upstream relay), so
/// a writer fits better than returning an <see cref="IAsyncEnumerable{T}"/>. A write that fails because the client
/// went away marks the stream <see cref="Gone"/> and is otherwise ignored: the producer decides what to do then.
/// </summary>
public sealed class EventStream(HttpResponse response)
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] LineEnd = "\n"u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    public const string ContentType = "text/event-stream";

    public bool Started { get; private set; }

    public bool Gone { get; private set; }

    /// <summary>Sends the status and headers; the first write does this itself.</summary>
    public async ValueTask StartAsync(Action<HttpResponse>? headers = null)
    {
        if (Started)
        {
            return;
        }

        Started = true;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache";
        // Tells a buffering reverse proxy in front (nginx) to pass events on as they come.
        response.Headers["X-Accel-Buffering"] = "no";
        headers?.Invoke(response);
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await Guarded(static r => r.Body.FlushAsync(r.HttpContext.RequestAborted), response);
    }

    /// <summary>One event: an optional type line, one data line (JSON has no line breaks), a blank line; flushed.</summary>
    public async ValueTask WriteAsync(string? eventType, ReadOnlyMemory<byte> data)
    {
        await StartAsync();
        await Guarded(async state =>
        {
            var (body, type, payload, token) = state;
            if (type is not null)
            {
                await body.WriteAsync(EventPrefix, token);
                await body.WriteAsync(Encoding.UTF8.GetBytes(type), token);
                await body.WriteAsync(LineEnd, token);
            }

            await body.WriteAsync(DataPrefix, token);
            await body.WriteAsync(payload, token);
            await body.WriteAsync(EventEnd, token);
            await body.FlushAsync(token);
        }, (response.Body, eventType, data, response.HttpContext.RequestAborted));
    }

    public ValueTask WriteAsync(string? eventType, string data) => WriteAsync(eventType, Encoding.UTF8.GetBytes(data));

    private async ValueTask Guarded<T>(Func<T, Task> write, T state)
    {
        if (Gone)
        {
            return;
        }

        try
        {
            await write(state);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            Gone = true;
        }
    }
}
