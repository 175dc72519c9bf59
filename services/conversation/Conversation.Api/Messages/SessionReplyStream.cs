using System.Diagnostics;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Idempotency;
using StitchFin.ServiceDefaults.Http;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Messages;

/// <summary>
/// The session message API's stream (<c>Accept: text/event-stream</c>): <c>start</c> (who answers, the assistant
/// message's id), <c>delta</c> events (<c>{"content"}</c>), then <c>completed</c> with the same JSON a whole reply
/// answers (201), or <c>error</c> with a problem (nothing stored, nothing charged).
/// </summary>
public sealed class SessionReplyStream(HttpResponse response, bool replayed) : IReplyStream
{
    public const string StartEvent = "start";
    public const string DeltaEvent = "delta";
    public const string CompletedEvent = "completed";
    public const string ErrorEvent = "error";

    private readonly EventStream _events = new(response);

    public static bool Accepts(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(EventStream.ContentType, StringComparison.OrdinalIgnoreCase));

    /// <summary>Sent with the first delta that always follows it.</summary>
    public ValueTask StartAsync(ReplyStart start) =>
        WriteAsync(StartEvent, JsonSerializer.SerializeToUtf8Bytes(
            new StreamStarted(start.AssistantMessageId, start.CreatedAt, start.Provider, start.Model, start.FallbackUsed), JsonDefaults.JsonOptions), flush: false);

    public ValueTask DeltaAsync(string text) =>
        WriteAsync(DeltaEvent, JsonSerializer.SerializeToUtf8Bytes(new StreamDelta(text), JsonDefaults.JsonOptions));

    public ValueTask CompletedAsync(byte[] exchange) => WriteAsync(CompletedEvent, exchange);

    public ValueTask FailedAsync(CompletionFailed failure) =>
        WriteAsync(ErrorEvent, JsonSerializer.SerializeToUtf8Bytes(new StreamProblem(
            "https://tools.ietf.org/html/rfc9110#section-15.6.3",
            "The reply stream failed",
            StatusCodes.Status502BadGateway,
            "The provider's stream failed before the reply was complete: the text so far is incomplete, nothing was stored or charged, and the key may be retried.",
            failure.Attempts,
            Activity.Current?.TraceId.ToString() ?? response.HttpContext.TraceIdentifier), JsonDefaults.JsonOptions));

    private ValueTask WriteAsync(string eventType, byte[] json, bool flush = true)
    {
        if (!_events.Started && replayed)
        {
            _events.Start(r => r.Headers[IdempotencyKey.ReplayedHeaderName] = "true");
        }

        return _events.WriteAsync(eventType, json, flush);
    }

    private sealed record StreamStarted(Guid AssistantMessageId, DateTimeOffset CreatedAt, string Provider, string Model, bool FallbackUsed);

    private sealed record StreamDelta(string Content);

    private sealed record StreamProblem(string Type, string Title, int Status, string Detail, IReadOnlyList<ProviderAttempt> Attempts, string TraceId);
}
