using System.Globalization;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Upstreams;

/// <summary>
/// Sends one attempt to the address the catalogue configured for the target (never one a request names), in the
/// protocol of the provider's kind (<see cref="UpstreamProtocols"/>), and maps what comes back to attempt outcomes, the
/// same way for every protocol. It asks for a stream, whether or not its caller streams: a stream has a first token and
/// gaps to time, where a whole reply is silent until it is complete; an upstream configured with
/// <c>Streaming: false</c> is asked for whole replies.
/// </summary>
public sealed class UpstreamAdapter(HttpClient http, TimeProvider time) : IProviderAdapter
{
    /// <summary>Larger bodies are not a reply this gateway can relay.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    private const int MaxErrorBodyBytes = 64 * 1024;

    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly MediaTypeWithQualityHeaderValue Json = new("application/json");

    private static readonly string[] ContextLengthWords = ["maximum context length", "context window", "prompt is too long", "exceed context limit"];

    public async Task<AttemptResult> SendAsync(
        Target target, NormalizedRequest request, IContentSink sink, AttemptLimits limits, CancellationToken cancellationToken)
    {
        var protocol = UpstreamProtocols.For(target.Provider.Kind);

        // Headers and the first token must arrive within FirstToken; after that, each chunk within Idle of the last.
        using var limit = new CancellationTokenSource(limits.FirstToken, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        var stream = target.Provider.Streaming;
        using var message = new HttpRequestMessage(HttpMethod.Post, target.Provider.EndpointUrl)
        {
            Content = new ByteArrayContent(protocol.Request(target, request, stream)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.Accept.Add(stream ? EventStream : Json);
        foreach (var (name, value) in target.Provider.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        // After the configured headers, so that a configured version header wins over the protocol's default.
        protocol.Authenticate(message.Headers, target.Provider);

        // An API without stop sequences still ends the reply where the request asked; the text goes through the cutter.
        var cutter = !protocol.StopsAtSequences && request.Options?.Stop is { Count: > 0 } stops ? new StopSequenceCutter(sink, stops) : null;
        var output = (IContentSink?)cutter ?? sink;

        var phase = AttemptReasons.FirstTokenTimeout;
        var malformed = 0;
        int? answered = null;
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var status = (int)response.StatusCode;
            answered = status;
            if (status is < 200 or >= 300)
            {
                return await FailureAsync(response, linked.Token);
            }

            if (!string.Equals(response.Content.Headers.ContentType?.MediaType, EventStream.MediaType, StringComparison.OrdinalIgnoreCase))
            {
                // A whole reply (asked for, or an upstream that ignored "stream": true) is passed on as one piece.
                var whole = await ReadBoundedAsync(response.Content, MaxBodyBytes, linked.Token) is { } content ? protocol.ReadWhole(content) : null;
                if (whole is null || whole.Error is not null || (whole.Content is null && whole.ToolCalls is null))
                {
                    return AttemptResult.Fault(status, AttemptReasons.InvalidResponse);
                }

                if (whole.Content is { Length: > 0 })
                {
                    await output.OnContentAsync(whole.Model ?? target.Model, whole.Content!);
                }

                var calls = new ToolCallAssembly();
                calls.Add(whole.ToolCalls);
                return await SucceededAsync(status, cutter, new UpstreamReply(whole.Model, whole.FinishReason ?? "stop", whole.Usage, calls.Complete()), 0);
            }

            string? model = null, finishReason = null;
            ChatUsage? usage = null;
            var toolCalls = new ToolCallAssembly();
            var done = false;
            var reader = protocol.NewEventReader();
            await using var events = await response.Content.ReadAsStreamAsync(linked.Token);
            await foreach (var item in SseParser.Create(events, reader.Read).EnumerateAsync(linked.Token))
            {
                if (item.Data.Piece is not { } piece)
                {
                    if (item.Data.End)
                    {
                        done = true;
                        break;
                    }

                    malformed++;
                    continue;
                }

                if (piece.Error is { } error)
                {
                    return AttemptResult.Fault(status, AttemptReasons.StreamError, malformed, error);
                }

                model ??= piece.Model;
                finishReason = piece.FinishReason ?? finishReason;
                usage = piece.Usage ?? usage;
                toolCalls.Add(piece.ToolCalls);
                if (piece.Content is { Length: > 0 } text)
                {
                    phase = AttemptReasons.IdleTimeout;
                    await output.OnContentAsync(model ?? target.Model, text);
                }

                if (item.Data.End)
                {
                    done = true;
                    break;
                }

                if (phase == AttemptReasons.IdleTimeout)
                {
                    limit.CancelAfter(limits.Idle);
                }
            }

            // A stream is whole only with a finish reason and its last event: anything less was cut short.
            return done && finishReason is not null
                ? await SucceededAsync(status, cutter, new UpstreamReply(model, finishReason, usage, toolCalls.Complete()), malformed)
                : AttemptResult.Fault(status, AttemptReasons.StreamIncomplete, malformed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AttemptResult.TimedOut(phase, answered, malformed);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // Refused or reset before the response headers, or the body broken off after them.
            return answered is null
                ? AttemptResult.Fault(null, AttemptReasons.ConnectionFailed)
                : AttemptResult.Fault(answered, AttemptReasons.StreamCut, malformed);
        }
    }

    /// <summary>
    /// A complete reply. Cut at a stop sequence, it stopped there as an API with stop sequences would have: an ordinary
    /// stop, and no tool calls (they would have come after the text).
    /// </summary>
    private static async Task<AttemptResult> SucceededAsync(int status, StopSequenceCutter? cutter, UpstreamReply reply, int malformed)
    {
        if (cutter is not null && await cutter.FinishAsync())
        {
            reply = reply with { FinishReason = "stop", ToolCalls = null };
        }

        return AttemptResult.Success(status, reply, malformed);
    }

    /// <summary>A non-2xx answer, classified: what to retry, where to fail over, what to hand back to the caller.</summary>
    public static AttemptResult Classify(int status, ChatError? error, TimeSpan? retryAfter) => status switch
    {
        StatusCodes.Status429TooManyRequests => AttemptResult.RateLimited(status, retryAfter, error),
        >= 500 or StatusCodes.Status408RequestTimeout => AttemptResult.Fault(status, AttemptReasons.ServerError, error: error, retryAfter: retryAfter),
        // A conflict is about this one request at this moment: worth another try, but not a sign of an unwell upstream.
        StatusCodes.Status409Conflict => new AttemptResult(AttemptOutcomes.Error, status, AttemptReasons.ServerError, AttemptDisposition.Retry, false, RetryAfter: retryAfter, Error: error),
        StatusCodes.Status400BadRequest or StatusCodes.Status413PayloadTooLarge when IsContextLengthExceeded(error) =>
            AttemptResult.FailOver(status, AttemptReasons.ContextLengthExceeded, error),
        < 400 => AttemptResult.FailOver(status, AttemptReasons.InvalidResponse, error),
        _ => AttemptResult.Rejected(status, error),
    };

    /// <summary>
    /// OpenAI's code, or the words each API uses: OpenAI's "maximum context length" and "context window", Anthropic's
    /// "prompt is too long" and "exceed context limit" (Anthropic has no code for it, only <c>invalid_request_error</c>).
    /// </summary>
    public static bool IsContextLengthExceeded(ChatError? error) =>
        error is not null && (error.Code == AttemptReasons.ContextLengthExceeded
            || ContextLengthWords.Any(words => error.Message.Contains(words, StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// How long the upstream asks to wait: a <c>retryAfterMs</c> in the body, else <c>retry-after-ms</c>, else
    /// <c>Retry-After</c> in seconds or as an HTTP date.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, int? bodyRetryAfterMs, DateTimeOffset now)
    {
        if (bodyRetryAfterMs is { } ms)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        if (response.Headers.TryGetValues("retry-after-ms", out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var headerMs) && headerMs >= 0)
        {
            return TimeSpan.FromMilliseconds(headerMs);
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
            _ => null,
        };
    }

    private async Task<AttemptResult> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        ChatError? error = null;
        int? retryAfterMs = null;
        try
        {
            if (await ReadBoundedAsync(response.Content, MaxErrorBodyBytes, cancellationToken) is { } body)
            {
                // OpenAI's and Anthropic's error bodies alike: an "error" object with a message and a type.
                (error, retryAfterMs) = OpenAiChatWire.ReadError(body);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The status alone still says what happened.
        }

        return Classify(status, error, RetryAfter(response, retryAfterMs, time.GetUtcNow()));
    }

    /// <summary>Tool calls put together from their pieces, by index: the id and name come once, the arguments in fragments.</summary>
    private sealed class ToolCallAssembly
    {
        private readonly SortedDictionary<int, (string? Id, string? Name, System.Text.StringBuilder Arguments)> _calls = [];

        public void Add(IReadOnlyList<ToolCallPiece>? pieces)
        {
            foreach (var piece in pieces ?? [])
            {
                var call = _calls.TryGetValue(piece.Index, out var existing) ? existing : (null, null, new System.Text.StringBuilder());
                call.Id ??= piece.Id;
                call.Name ??= piece.Name;
                call.Arguments.Append(piece.Arguments);
                _calls[piece.Index] = call;
            }
        }

        /// <returns>The calls, or null when there were none.</returns>
        public IReadOnlyList<ToolCall>? Complete() => _calls.Count == 0
            ? null
            : _calls.Select(c => new ToolCall(c.Value.Id ?? $"call_{c.Key}", c.Value.Name ?? "", c.Value.Arguments.Length == 0 ? "{}" : c.Value.Arguments.ToString())).ToArray();
    }

    /// <returns>The body, or null when it is larger than <paramref name="maxBytes"/>.</returns>
    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
