using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// A server-sent event stream written as events happen: headers with the first event, then each event sent at once
/// (one write and a flush), so nothing on the way waits for the next one. Replies are pushed by whatever produces them
/// (an upstream relay), so a writer fits better than returning an <see cref="IAsyncEnumerable{T}"/>. A write that fails
/// because the client went away marks the stream <see cref="Gone"/> and is otherwise ignored: the producer decides
/// what to do then.
/// </summary>
public sealed class EventStream(HttpResponse response)
{
    public const string ContentType = "text/event-stream";

    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    private readonly ArrayBufferWriter<byte> _pending = new(1024);

    public bool Started { get; private set; }

    public bool Gone { get; private set; }

    /// <summary>Sets the status and headers; they leave with the first flushed event.</summary>
    public void Start(Action<HttpResponse>? headers = null)
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
    }

    /// <summary>
    /// One event: an optional type line, one data line (JSON has no line breaks), a blank line; sent at once unless
    /// <paramref name="flush"/> is false, when it waits for the next flushed event (an event always followed at once by
    /// another, as a stream's start by its first delta, then leaves with it in one packet).
    /// </summary>
    public async ValueTask WriteAsync(string? eventType, ReadOnlyMemory<byte> data, bool flush = true)
    {
        Start();
        if (eventType is not null)
        {
            _pending.Write(EventPrefix);
            Encoding.UTF8.GetBytes(eventType, _pending);
            _pending.Write("\n"u8);
        }

        _pending.Write(DataPrefix);
        _pending.Write(data.Span);
        _pending.Write(EventEnd);
        if (!flush || Gone)
        {
            return;
        }

        try
        {
            var token = response.HttpContext.RequestAborted;
            await response.Body.WriteAsync(_pending.WrittenMemory, token);
            await response.Body.FlushAsync(token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            Gone = true;
        }
        finally
        {
            _pending.ResetWrittenCount();
        }
    }

    public ValueTask WriteAsync(string? eventType, string data) => WriteAsync(eventType, Encoding.UTF8.GetBytes(data));
}
