using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace StitchFin.Testing.Upstream;

/// <summary>
/// How <see cref="FaultyUpstream"/> answers one request, in the wire format of the API it was asked in (chat
/// completions, Responses or Anthropic Messages); a streamed one (the request asked <c>"stream": true</c>) is flushed
/// event by event.
/// </summary>
public sealed class UpstreamStep
{
    private readonly string _description;

    private UpstreamStep(string description, Func<UpstreamExchange, Task<string>> play)
    {
        _description = description;
        Play = play;
    }

    /// <summary>Answers the request; returns the outcome recorded on <see cref="UpstreamRequest.Outcome"/>.</summary>
    internal Func<UpstreamExchange, Task<string>> Play { get; }

    public override string ToString() => _description;

    /// <summary>
    /// A normal answer: a stream when asked, else JSON. <paramref name="chunkSpacing"/> waits between stream events;
    /// <paramref name="beforeChunk"/> is awaited before content chunk i (0-based) is written.
    /// </summary>
    public static UpstreamStep Reply(
        string text,
        UpstreamUsage? usage = null,
        bool omitUsage = false,
        TimeSpan chunkSpacing = default,
        string? reportedModel = null,
        Func<int, Task>? beforeChunk = null)
    {
        var plan = new StreamPlan(text)
        {
            Usage = usage,
            OmitUsage = omitUsage,
            Spacing = chunkSpacing,
            ReportedModel = reportedModel,
            BeforeChunk = beforeChunk,
        };
        return new($"Reply({Quote(text)})", async x =>
        {
            if (x.Request.Stream)
            {
                return await StreamAsync(x, plan, "replied");
            }

            await x.WriteJsonAsync(StatusCodes.Status200OK,
                x.Dialect.Whole(x.NewCompletion(text, usage, omitUsage, reportedModel), "stop", []));
            return "replied";
        });
    }

    /// <summary>
    /// A reply that calls tools (finish reason <c>tool_calls</c>), with optional text before the calls. Streamed, each
    /// call arrives as the API sends it: its id and name first, then its arguments in fragments of 8 characters.
    /// </summary>
    public static UpstreamStep ToolCalls(IReadOnlyList<UpstreamToolCall> calls, string text = "", UpstreamUsage? usage = null) =>
        new($"ToolCalls({string.Join(", ", calls.Select(c => c.Name))})", async x =>
        {
            var reply = x.NewCompletion(text, usage);
            if (!x.Request.Stream)
            {
                await x.WriteJsonAsync(StatusCodes.Status200OK, x.Dialect.Whole(reply, "tool_calls", calls));
                return "called-tools";
            }

            var writer = x.Dialect.Stream(reply, x.Request.IncludeUsage);
            await x.BeginStreamAsync();
            await x.SendEventsAsync(writer.Opening());
            foreach (var word in reply.Words)
            {
                await x.SendEventsAsync(writer.Text(word));
            }

            for (var i = 0; i < calls.Count; i++)
            {
                await x.SendEventsAsync(writer.ToolCallStart(i, calls[i]));
                var arguments = calls[i].Arguments;
                for (var at = 0; at < arguments.Length; at += 8)
                {
                    await x.SendEventsAsync(writer.ToolCallArguments(i, arguments[at..Math.Min(arguments.Length, at + 8)]));
                }
            }

            await x.SendEventsAsync(writer.Finish("tool_calls"));
            await x.SendEventsAsync(writer.Done());
            return "called-tools";
        });

    /// <summary>
    /// 429 rate_limit_exceeded. <paramref name="retryAfter"/> sends <c>Retry-After</c> in whole seconds (rounded up),
    /// <paramref name="retryAfterDate"/> as an HTTP date; <paramref name="retryAfterMs"/> adds a top-level
    /// <c>retryAfterMs</c> to the body.
    /// </summary>
    public static UpstreamStep RateLimited(TimeSpan? retryAfter = null, DateTimeOffset? retryAfterDate = null, int? retryAfterMs = null)
    {
        if (retryAfter is not null && retryAfterDate is not null)
        {
            throw new ArgumentException("Retry-After is either seconds or a date, not both.", nameof(retryAfterDate));
        }

        if (retryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "Retry-After cannot be negative.");
        }

        string? header = retryAfter is { } delay
            ? ((long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture)
            : retryAfterDate?.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture);
        return new($"RateLimited(Retry-After: {header ?? "none"})", async x =>
        {
            await x.WriteErrorAsync(StatusCodes.Status429TooManyRequests, "Rate limit reached for requests", "requests", null,
                "rate_limit_exceeded", retryAfterMs, headers =>
                {
                    if (header is not null)
                    {
                        headers[HeaderNames.RetryAfter] = header;
                    }
                });
            return "rate-limited";
        });
    }

    /// <summary>That status with a server error body (OpenAI's server_error, Anthropic's api_error); <paramref name="code"/> is OpenAI's <c>code</c>.</summary>
    public static UpstreamStep Status(int status, string? code = null) =>
        new($"Status({status})", x => WriteStatusAsync(x, status, code));

    /// <summary>Drops the connection before any response byte.</summary>
    public static UpstreamStep Reset() => new("Reset()", x =>
    {
        x.Abort();
        return Task.FromResult("reset");
    });

    /// <summary>Never answers: holds the request until the client gives up or the server is disposed.</summary>
    public static UpstreamStep Silent() => new("Silent()", x => x.HoldAsync("silent"));

    /// <summary>Streaming: headers and the role chunk at once, then <paramref name="delay"/>, then the text. Otherwise: the delay, then the answer.</summary>
    public static UpstreamStep DelayFirstToken(TimeSpan delay, string text)
    {
        var plan = new StreamPlan(text) { FirstTokenDelay = delay };
        return new($"DelayFirstToken({delay.TotalMilliseconds} ms, {Quote(text)})", async x =>
        {
            if (x.Request.Stream)
            {
                return await StreamAsync(x, plan, "replied");
            }

            await Task.Delay(delay, x.Aborted);
            await x.WriteJsonAsync(StatusCodes.Status200OK, x.Dialect.Whole(x.NewCompletion(text), "stop", []));
            return "replied";
        });
    }

    /// <summary>
    /// Streaming: the opening events (the role chunk) and the first <paramref name="contentChunks"/> word chunks, then
    /// the connection drops (no finish, no last event). Otherwise: status 200 and half the JSON body, then the
    /// connection drops.
    /// </summary>
    public static UpstreamStep CutAfter(int contentChunks, string text)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contentChunks);
        var plan = new StreamPlan(text) { CutAfter = contentChunks };
        return new($"CutAfter({contentChunks}, {Quote(text)})", async x =>
        {
            if (x.Request.Stream)
            {
                return await StreamAsync(x, plan, "cut");
            }

            var body = x.Dialect.Whole(x.NewCompletion(text), "stop", []);
            await x.WritePartialJsonAsync(body, body.Length / 2);
            x.Abort();
            return "cut";
        });
    }

    /// <summary>
    /// Streaming: the opening events (the role chunk) and <paramref name="contentChunks"/> word chunks, then nothing
    /// until the client goes away or the server is disposed. Otherwise: half the JSON body, then the same.
    /// </summary>
    public static UpstreamStep StallAfter(int contentChunks, string text)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contentChunks);
        var plan = new StreamPlan(text) { StallAfter = contentChunks };
        return new($"StallAfter({contentChunks}, {Quote(text)})", async x =>
        {
            if (x.Request.Stream)
            {
                return await StreamAsync(x, plan, "stalled");
            }

            var body = x.Dialect.Whole(x.NewCompletion(text), "stop", []);
            await x.WritePartialJsonAsync(body, body.Length / 2);
            return await x.HoldAsync("stalled");
        });
    }

    /// <summary>
    /// Streaming: a complete stream with one truncated-JSON event after <paramref name="afterContentChunks"/> content
    /// chunks. Otherwise: status 200 with a body that is not JSON.
    /// </summary>
    public static UpstreamStep InvalidEvent(string text, int afterContentChunks = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterContentChunks);
        var plan = new StreamPlan(text) { InvalidAfter = afterContentChunks };
        return new($"InvalidEvent({Quote(text)}, {afterContentChunks})", async x =>
        {
            if (x.Request.Stream)
            {
                return await StreamAsync(x, plan, "replied-with-invalid-event");
            }

            await x.WriteJsonAsync(StatusCodes.Status200OK, x.Dialect.BrokenEvent.Data);
            return "invalid-body";
        });
    }

    /// <summary>
    /// Streaming: everything but the last event (<c>data: [DONE]</c>, <c>message_stop</c>, <c>response.completed</c>),
    /// then the response ends normally. Otherwise: a normal answer.
    /// </summary>
    public static UpstreamStep OmitDone(string text)
    {
        var plan = new StreamPlan(text) { OmitDone = true };
        return new($"OmitDone({Quote(text)})", async x =>
        {
            if (x.Request.Stream)
            {
                return await StreamAsync(x, plan, "replied-without-done");
            }

            await x.WriteJsonAsync(StatusCodes.Status200OK, x.Dialect.Whole(x.NewCompletion(text), "stop", []));
            return "replied";
        });
    }

    /// <summary>400: the prompt is too long for the model (OpenAI's code context_length_exceeded, Anthropic's "prompt is too long").</summary>
    public static UpstreamStep ContextLengthExceeded() => new("ContextLengthExceeded()", async x =>
    {
        var (message, param, code) = x.Dialect.ContextLengthExceeded;
        await x.WriteErrorAsync(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);
        return "context-length-exceeded";
    });

    /// <summary>400: refused by the provider's safety system (OpenAI's code content_policy_violation; Anthropic has no code for it).</summary>
    public static UpstreamStep ContentPolicyViolation() => new("ContentPolicyViolation()", async x =>
    {
        var (message, param, code) = x.Dialect.ContentPolicyViolation;
        await x.WriteErrorAsync(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);
        return "content-policy-violation";
    });

    /// <summary>
    /// <see cref="Status"/>(<paramref name="status"/>) from the first request that plays this step until
    /// <paramref name="duration"/> has passed, then <paramref name="then"/>. Re-scripting the model starts the clock again.
    /// </summary>
    public static UpstreamStep FailFor(TimeSpan duration, UpstreamStep then, int status = StatusCodes.Status503ServiceUnavailable)
    {
        ArgumentNullException.ThrowIfNull(then);
        var clock = new object();
        return new($"FailFor({duration.TotalMilliseconds} ms, {status}, then {then})", x =>
            TimeProvider.System.GetElapsedTime(x.FirstPlayed(clock)) < duration
                ? WriteStatusAsync(x, status, null)
                : then.Play(x));
    }

    /// <summary>
    /// Streaming: the opening, the content chunks and the last event, but no finish reason (chat completions: no chunk
    /// with one; Anthropic: a <c>message_delta</c> without a stop reason; Responses: no <c>response.completed</c>).
    /// Otherwise: <c>"finish_reason": null</c> (a <c>null</c> stop reason, a response still <c>in_progress</c>).
    /// </summary>
    public static UpstreamStep NoFinishReason(string text)
    {
        var plan = new StreamPlan(text) { OmitFinish = true };
        return new($"NoFinishReason({Quote(text)})", async x =>
        {
            if (x.Request.Stream)
            {
                return await StreamAsync(x, plan, "replied-without-finish-reason");
            }

            await x.WriteJsonAsync(StatusCodes.Status200OK, x.Dialect.Whole(x.NewCompletion(text), null, []));
            return "replied-without-finish-reason";
        });
    }

    private static async Task<string> WriteStatusAsync(UpstreamExchange x, int status, string? code)
    {
        await x.WriteErrorAsync(status, "The server had an error while processing your request.", "server_error", null, code);
        return $"status-{status}";
    }

    /// <summary>
    /// One streamed answer: the opening (the role chunk), a chunk per word, the finish (chunk) and the usage (chunk,
    /// when asked), the last event ([DONE]); the plan's fault (cut, stall, broken event, missing finish or last event)
    /// at its place.
    /// </summary>
    private static async Task<string> StreamAsync(UpstreamExchange x, StreamPlan plan, string outcome)
    {
        var reply = x.NewCompletion(plan.Text, plan.Usage, plan.OmitUsage, plan.ReportedModel);
        var writer = x.Dialect.Stream(reply, x.Request.IncludeUsage);
        var words = reply.Words;
        x.EventSpacing = plan.Spacing;

        await x.BeginStreamAsync();
        await x.SendEventsAsync(writer.Opening());
        if (plan.FirstTokenDelay > TimeSpan.Zero)
        {
            await Task.Delay(plan.FirstTokenDelay, x.Aborted);
        }

        for (var i = 0; ; i++)
        {
            if (i == Math.Min(plan.CutAfter ?? -1, words.Count))
            {
                x.Abort();
                return outcome;
            }

            if (i == Math.Min(plan.StallAfter ?? -1, words.Count))
            {
                return await x.HoldAsync(outcome);
            }

            if (i == Math.Min(plan.InvalidAfter ?? -1, words.Count))
            {
                await x.SendEventAsync(x.Dialect.BrokenEvent);
            }

            if (i == words.Count)
            {
                break;
            }

            if (plan.BeforeChunk is { } beforeChunk)
            {
                await beforeChunk(i).WaitAsync(x.Aborted);
            }

            await x.SendEventsAsync(writer.Text(words[i]));
        }

        await x.SendEventsAsync(writer.Finish(plan.OmitFinish ? null : "stop"));
        if (!plan.OmitDone)
        {
            await x.SendEventsAsync(writer.Done());
        }

        return outcome;
    }

    private static string Quote(string text) => text.Length <= 24 ? $"\"{text}\"" : $"\"{text[..21]}...\"";

    private sealed record StreamPlan(string Text)
    {
        public UpstreamUsage? Usage { get; init; }
        public bool OmitUsage { get; init; }
        public TimeSpan Spacing { get; init; }
        public string? ReportedModel { get; init; }
        public Func<int, Task>? BeforeChunk { get; init; }
        public TimeSpan FirstTokenDelay { get; init; }
        public int? CutAfter { get; init; }
        public int? StallAfter { get; init; }
        public int? InvalidAfter { get; init; }
        public bool OmitDone { get; init; }
        public bool OmitFinish { get; init; }
    }
}
