using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Idempotency;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Conversation.Messages;

public static class MessagesApi
{
    public static RouteGroupBuilder MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sessions").WithTags("Messages");
        group.MapPost("/{sessionId:guid}/messages", SendMessage);
        return group;
    }

    /// <summary>For the voice service, which calls with its own service identity, acting for the tenant the edge asserted to it.</summary>
    public static RouteGroupBuilder MapInternalMessagesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/internal/sessions").WithTags("Internal").ExcludeFromDescription()
            .RequireAuthorization(InternalPolicies.TenantOrService);
        group.MapPost("/{sessionId:guid}/messages", SendInternalMessage);
        return group;
    }

    public static Task<Results<StoredResponse, EmptyHttpResult, ValidationProblem, ProblemHttpResult>> SendMessage(
        Guid sessionId,
        [FromHeader(Name = IdempotencyKey.HeaderName)] string? idempotencyKey,
        MessageRequest request,
        HttpContext context,
        MessageExchangeService exchanges,
        CurrentTenant tenant,
        IOptions<IdempotencyOptions> options) =>
        ExchangeAsync(sessionId, idempotencyKey, request.Content, Channels.Text, null, SessionReplyStream.Accepts(context.Request), context, exchanges, tenant, options.Value);

    public static Task<Results<StoredResponse, EmptyHttpResult, ValidationProblem, ProblemHttpResult>> SendInternalMessage(
        Guid sessionId,
        [FromHeader(Name = IdempotencyKey.HeaderName)] string? idempotencyKey,
        InternalMessageRequest request,
        HttpContext context,
        MessageExchangeService exchanges,
        CurrentTenant tenant,
        IOptions<IdempotencyOptions> options) =>
        ExchangeAsync(sessionId, idempotencyKey, request.Content, request.Channel, request.RequestFingerprint, streamed: false, context, exchanges, tenant, options.Value);

    private static async Task<Results<StoredResponse, EmptyHttpResult, ValidationProblem, ProblemHttpResult>> ExchangeAsync(
        Guid sessionId,
        string? idempotencyKey,
        string? content,
        string? channel,
        string? requestFingerprint,
        bool streamed,
        HttpContext context,
        MessageExchangeService exchanges,
        CurrentTenant tenant,
        IdempotencyOptions options)
    {
        var errors = MessageInput.Validate(content, channel, requestFingerprint);
        if (IdempotencyKey.Problem(idempotencyKey) is { } keyProblem)
        {
            errors["idempotencyKey"] = [keyProblem];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var input = new MessageInput(content!, channel!, requestFingerprint);
        var stream = streamed ? new SessionReplyStream(context.Response, replayed: false) : null;
        var outcome = await exchanges.ExchangeAsync(tenant.Id, sessionId, idempotencyKey!, input, stream, context.RequestAborted);
        switch (outcome)
        {
            case ExchangeOutcome.Streamed:
                return TypedResults.Empty;
            case ExchangeOutcome.Answered { Replayed: true } replay when streamed:
                await StoredExchangeStream.WriteAsync(new SessionReplyStream(context.Response, replayed: true), replay.Body);
                return TypedResults.Empty;
            case ExchangeOutcome.Answered answered:
                return new StoredResponse(answered.Status, answered.Body, answered.Replayed);
            case ExchangeOutcome.SessionNotFound:
                return Problem(StatusCodes.Status404NotFound, "Not Found", "No such session.");
            case ExchangeOutcome.AgentDeleted:
                return Problem(StatusCodes.Status409Conflict, "Agent deleted",
                    "The session's agent was deleted: its transcript can be read, but it takes no new messages.");
            case ExchangeOutcome.KeyReused:
                return Problem(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                    $"This {IdempotencyKey.HeaderName} was already used for a different request.");
            case ExchangeOutcome.InProgress:
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status409Conflict, "Request in progress",
                    $"A request with this {IdempotencyKey.HeaderName} is still being processed; retry after a moment to get its answer.");
            case ExchangeOutcome.ProvidersFailed failed:
                return Problem(StatusCodes.Status502BadGateway, "All providers failed",
                    failed.Detail ?? "Every attempt on every provider failed; nothing was charged and the key may be retried.",
                    failed.Attempts);
            case ExchangeOutcome.ProviderRejected rejected:
                return TypedResults.Problem(ProviderRefusal.Message(rejected.Failure), statusCode: ProviderRefusal.Status(rejected.Failure),
                    title: "The provider refused the request", extensions: new Dictionary<string, object?>
                    {
                        ["attempts"] = rejected.Failure.Attempts,
                        ["code"] = rejected.Failure.UpstreamError?.Code,
                    });
            case ExchangeOutcome.ProviderNotConfigured notConfigured:
                return Problem(StatusCodes.Status409Conflict, "Provider not configured",
                    $"The agent's provider or model is not configured any more: {notConfigured.Detail} Update the agent; nothing was charged.");
            case ExchangeOutcome.ProvidersUnavailable unavailable:
                context.Response.Headers.RetryAfter = "1";
                return Problem(StatusCodes.Status503ServiceUnavailable, "Providers unavailable",
                    $"{unavailable.Detail} Nothing was charged and the key may be retried.", []);
            default:
                throw new InvalidOperationException($"Unhandled exchange outcome {outcome.GetType().Name}.");
        }
    }

    private static ProblemHttpResult Problem(int status, string title, string detail, IReadOnlyList<ProviderAttempt>? attempts = null) =>
        TypedResults.Problem(detail, statusCode: status, title: title,
            extensions: attempts is null ? null : new Dictionary<string, object?> { ["attempts"] = attempts });
}
