using System.Buffers;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace StitchFin.Testing.Upstream;

/// <summary>
/// What a step needs to answer one request: the HTTP exchange, what was asked, the model's script, and the dialect of
/// the API it was asked in.
/// </summary>
internal sealed class UpstreamExchange(
    HttpContext context,
    UpstreamRequest request,
    UpstreamDialect dialect,
    UpstreamScript? script,
    int promptCharacters,
    Func<bool> stopping,
    CancellationToken aborted)
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private int _eventsSent;

    public UpstreamRequest Request { get; } = request;

    public UpstreamDialect Dialect { get; } = dialect;

    /// <summary>Cancelled when the client goes away or the server is disposed.</summary>
    public CancellationToken Aborted { get; } = aborted;

    /// <summary>Wait between two server-sent events (never before the first).</summary>
    public TimeSpan EventSpacing { get; set; }

    /// <summary>When the step identified by <paramref name="key"/> first played in this script.</summary>
    public long FirstPlayed(object key) =>
        (script ?? throw new InvalidOperationException("Only a scripted step has a script.")).FirstPlayed(key);

    public UpstreamCompletion NewCompletion(string text, UpstreamUsage? usage = null, bool omitUsage = false, string? reportedModel = null)
    {
        var words = UpstreamWire.Words(text);
        return new UpstreamCompletion(
            Dialect.IdPrefix + Guid.NewGuid().ToString("N")[..24],
            TimeProvider.System.GetUtcNow().ToUnixTimeSeconds(),
            reportedModel ?? Request.Model,
            text,
            words,
            usage ?? new UpstreamUsage(Math.Max(1, (promptCharacters + 3) / 4), words.Count),
            omitUsage);
    }

    public async Task WriteJsonAsync(int status, byte[] body, Action<IHeaderDictionary>? headers = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        headers?.Invoke(response.Headers);
        await response.Body.WriteAsync(body, Aborted);
        await response.Body.FlushAsync(Aborted);
    }

    public Task WriteErrorAsync(int status, string message, string type, string? param, string? code, int? retryAfterMs = null,
        Action<IHeaderDictionary>? headers = null) =>
        WriteJsonAsync(status, Dialect.Error(status, message, type, param, code, retryAfterMs), headers);

    /// <summary>Status 200, the headers, and the first <paramref name="length"/> bytes of <paramref name="body"/>, flushed.</summary>
    public async Task WritePartialJsonAsync(byte[] body, int length)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body.AsMemory(0, length), Aborted);
        await response.Body.FlushAsync(Aborted);
    }

    public async Task BeginStreamAsync()
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(Aborted);
    }

    /// <summary>Writes <c>event: {type}\n</c> (when it has one) and <c>data: {payload}\n\n</c>, flushes it, and records when.</summary>
    public async Task SendEventAsync(UpstreamFrame frame)
    {
        if (_eventsSent++ > 0 && EventSpacing > TimeSpan.Zero)
        {
            await Task.Delay(EventSpacing, Aborted);
        }

        using var bytes = new MemoryStream();
        if (frame.EventType is { } type)
        {
            bytes.Write(EventPrefix);
            bytes.Write(System.Text.Encoding.UTF8.GetBytes(type));
            bytes.WriteByte((byte)'\n');
        }

        bytes.Write(DataPrefix);
        bytes.Write(frame.Data);
        bytes.Write(EventEnd);
        await context.Response.Body.WriteAsync(bytes.ToArray(), Aborted);
        await context.Response.Body.FlushAsync(Aborted);
        Request.ChunkSent(Stopwatch.GetTimestamp());
    }

    public async Task SendEventsAsync(IEnumerable<UpstreamFrame> frames)
    {
        foreach (var frame in frames)
        {
            await SendEventAsync(frame);
        }
    }

    /// <summary>Holds the request until the client goes away or the server is disposed, then drops the connection.</summary>
    public async Task<string> HoldAsync(string kind)
    {
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, Aborted);
        }
        catch (OperationCanceledException)
        {
        }

        var outcome = stopping() ? $"{kind}-disposed" : $"{kind}-aborted";
        context.Abort();
        return outcome;
    }

    /// <summary>
    /// Drops the connection (Kestrel closes the socket at once). What was flushed has reached the socket by then:
    /// the server's write buffer is too small to hold anything (see FaultyUpstream.StartAsync).
    /// </summary>
    public void Abort() => context.Abort();
}

/// <summary>One answer's identity and content: every chunk of a streamed answer shares the id.</summary>
internal sealed record UpstreamCompletion(
    string Id,
    long Created,
    string Model,
    string Text,
    IReadOnlyList<string> Words,
    UpstreamUsage Usage,
    bool OmitUsage);

/// <summary>OpenAI's chat completions wire format, written with Utf8JsonWriter (and the writer every dialect uses).</summary>
internal static class UpstreamWire
{
    /// <summary>The deliberately truncated event <see cref="UpstreamStep.InvalidEvent"/> inserts.</summary>
    public static readonly byte[] BrokenEvent = "{\"id\":\"chatcmpl-broken\",\"choices\":[{\"delta\":{\"content\":\"x\""u8.ToArray();

    // The default encoder escapes ' < > + and non-ASCII text; OpenAI writes them as they are.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The text split into words, each with the whitespace that follows it ("Hello ", "big ", "world").</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        var words = new List<string>();
        var start = 0;
        for (var i = 1; i < text.Length; i++)
        {
            if (!char.IsWhiteSpace(text[i]) && char.IsWhiteSpace(text[i - 1]))
            {
                words.Add(text[start..i]);
                start = i;
            }
        }

        if (text.Length > 0)
        {
            words.Add(text[start..]);
        }

        return words;
    }

    public static byte[] Error(string message, string type, string? param, string? code, int? retryAfterMs = null) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        WriteNullableString(w, "param", param);
        WriteNullableString(w, "code", code);
        w.WriteEndObject();
        if (retryAfterMs is { } ms)
        {
            w.WriteNumber("retryAfterMs", ms);
        }

        w.WriteEndObject();
    });

    public static byte[] Completion(UpstreamCompletion c, string? finishReason) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", c.Id);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", c.Created);
        w.WriteString("model", c.Model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", c.Text);
        w.WriteEndObject();
        WriteNullableString(w, "finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        if (!c.OmitUsage)
        {
            WriteUsage(w, c.Usage);
        }

        w.WriteEndObject();
    });

    /// <summary>The first chunk: <c>delta: {"role":"assistant","content":""}</c>.</summary>
    public static byte[] RoleChunk(UpstreamCompletion c, bool usageField) => Chunk(c, usageField, null, w =>
    {
        w.WriteString("role", "assistant");
        w.WriteString("content", "");
    });

    public static byte[] ContentChunk(UpstreamCompletion c, bool usageField, string content) =>
        Chunk(c, usageField, null, w => w.WriteString("content", content));

    /// <summary><c>delta: {}</c> with <c>finish_reason: "stop"</c> (or the reason given).</summary>
    public static byte[] FinishChunk(UpstreamCompletion c, bool usageField, string finishReason = "stop") => Chunk(c, usageField, finishReason, _ => { });

    /// <summary>A piece of tool call <paramref name="index"/>: its id and name (the first piece), or a fragment of its arguments.</summary>
    public static byte[] ToolCallChunk(UpstreamCompletion c, bool usageField, int index, string? id, string? name, string arguments) =>
        Chunk(c, usageField, null, w =>
        {
            w.WriteStartArray("tool_calls");
            w.WriteStartObject();
            w.WriteNumber("index", index);
            if (id is not null)
            {
                w.WriteString("id", id);
                w.WriteString("type", "function");
            }

            w.WriteStartObject("function");
            if (name is not null)
            {
                w.WriteString("name", name);
            }

            w.WriteString("arguments", arguments);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
        });

    /// <summary>A whole completion whose message calls tools.</summary>
    public static byte[] ToolCallCompletion(UpstreamCompletion c, IReadOnlyList<UpstreamToolCall> calls) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", c.Id);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", c.Created);
        w.WriteString("model", c.Model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        WriteNullableString(w, "content", c.Text.Length == 0 ? null : c.Text);
        w.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            w.WriteStartObject();
            w.WriteString("id", call.Id);
            w.WriteString("type", "function");
            w.WriteStartObject("function");
            w.WriteString("name", call.Name);
            w.WriteString("arguments", call.Arguments);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("finish_reason", "tool_calls");
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, c.Usage);
        w.WriteEndObject();
    });

    /// <summary>The chunk <c>stream_options.include_usage</c> asks for: no choices, the usage.</summary>
    public static byte[] UsageChunk(UpstreamCompletion c) => Write(w =>
    {
        WriteChunkStart(w, c);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        WriteUsage(w, c.Usage);
        w.WriteEndObject();
    });

    // With include_usage, OpenAI sends "usage": null on every chunk but the last.
    private static byte[] Chunk(UpstreamCompletion c, bool usageField, string? finishReason, Action<Utf8JsonWriter> delta) => Write(w =>
    {
        WriteChunkStart(w, c);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("delta");
        delta(w);
        w.WriteEndObject();
        WriteNullableString(w, "finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        if (usageField)
        {
            w.WriteNull("usage");
        }

        w.WriteEndObject();
    });

    private static void WriteChunkStart(Utf8JsonWriter w, UpstreamCompletion c)
    {
        w.WriteStartObject();
        w.WriteString("id", c.Id);
        w.WriteString("object", "chat.completion.chunk");
        w.WriteNumber("created", c.Created);
        w.WriteString("model", c.Model);
    }

    private static void WriteUsage(Utf8JsonWriter w, UpstreamUsage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.PromptTokens);
        w.WriteNumber("completion_tokens", usage.CompletionTokens);
        w.WriteNumber("total_tokens", usage.TotalTokens);
        if (usage.CachedTokens > 0)
        {
            w.WriteStartObject("prompt_tokens_details");
            w.WriteNumber("cached_tokens", usage.CachedTokens);
            w.WriteNumber("audio_tokens", 0);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteNullableString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
