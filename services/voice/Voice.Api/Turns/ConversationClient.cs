using System.Net.Http.Headers;
using System.Text.Json;
using StitchFin.Contracts.Conversation;
using StitchFin.ServiceDefaults.Http;
using SharedDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Voice.Turns;

/// <summary>What conversation made of the transcript.</summary>
public abstract record ConversationOutcome
{
    /// <summary>201: the exchange, and whether conversation replayed a stored answer for this idempotency key.</summary>
    public sealed record Exchanged(MessageExchange Exchange, bool Replayed) : ConversationOutcome;

    /// <summary>Any other answer (404, 409, 422, 400, 502 with attempts, ...), to be passed through unchanged, its <c>Retry-After</c> too.</summary>
    public sealed record Refused(int Status, string? ContentType, byte[] Body, string? RetryAfter = null) : ConversationOutcome;

    /// <summary>Conversation said 2xx but its body is not a <see cref="MessageExchange"/>.</summary>
    public sealed record Unreadable(string Reason) : ConversationOutcome;

    /// <summary>Conversation could not be reached or did not answer in time.</summary>
    public sealed record Unavailable(string Reason) : ConversationOutcome;
}

/// <summary>Conversation's idempotent internal message path, called with the caller's identity re-signed.</summary>
public sealed partial class ConversationClient(HttpClient http, ILogger<ConversationClient> logger)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task<ConversationOutcome> SendAsync(
        Guid sessionId, string idempotencyKey, InternalMessageRequest message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"internal/sessions/{sessionId}/messages")
        {
            Content = JsonBody.Create(message, SharedDefaults.JsonOptions),
        };
        request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return new ConversationOutcome.Refused(
                    (int)response.StatusCode,
                    response.Content.Headers.ContentType?.ToString(),
                    await response.Content.ReadAsByteArrayAsync(cancellationToken),
                    response.Headers.RetryAfter?.ToString());
            }

            var exchange = await response.Content.ReadFromJsonAsync<MessageExchange>(SharedDefaults.JsonOptions, cancellationToken);
            return exchange is null
                ? new ConversationOutcome.Unreadable("conversation answered an empty exchange")
                : new ConversationOutcome.Exchanged(exchange, IsReplay(response.Headers));
        }
        catch (HttpRequestException e)
        {
            LogUnreachable(logger, e.Message);
            return new ConversationOutcome.Unavailable("conversation is unreachable");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ConversationOutcome.Unavailable($"conversation did not answer within {http.Timeout.TotalSeconds:0} s");
        }
        catch (JsonException e)
        {
            LogUnreadable(logger, e.Message);
            return new ConversationOutcome.Unreadable("conversation answered an unreadable exchange");
        }
    }

    // The exception's text names addresses: it goes to the log, never to the client.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation is unreachable: {Cause}")]
    private static partial void LogUnreachable(ILogger logger, string cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation answered an unreadable exchange: {Cause}")]
    private static partial void LogUnreadable(ILogger logger, string cause);

    private static bool IsReplay(HttpResponseHeaders headers) =>
        headers.TryGetValues(ReplayedHeader, out var values) && values.Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase));
}
