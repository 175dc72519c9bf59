using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StitchFin.Contracts.Conversation;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.OpenAi;
using StitchFin.Conversation.Translation;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Conversation.Anthropic;

/// <summary>
/// Anthropic's Messages API over the tenant's agents (README "Anthropic Messages API"): <c>model</c> names an agent, and
/// a message is an ordinary exchange on channel <c>api</c> through <see cref="MessageExchangeService"/>, in a session of its
/// own, exactly as a chat completion. <c>anthropic-version</c> is accepted whatever its value and not required.
/// </summary>
public static class AnthropicApi
{
    public static RouteGroupBuilder MapAnthropicApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("Anthropic").AddEndpointFilter(AnthropicShapedFailures);
        group.MapPost("/messages", CreateMessage);
        return group;
    }

    public static async Task<Results<AgentApiJson, EmptyHttpResult, AnthropicError>> CreateMessage(
        HttpContext context,
        ConversationDbContext db,
        MessageExchangeService exchanges,
        AgentModels models,
        CurrentTenant tenant,
        IOptions<IdempotencyOptions> options)
    {
        var (read, readError) = await AgentApiRequest.ReadAsync(
            context, db, models, tenant, Parse, r => r.Model, Errors);
        if (readError is not null)
        {
            return readError;
        }

        var (request, agentId, clientKey) = read!;
        var cancellationToken = context.RequestAborted;
        var content = request.Content();
        if (MessageInput.ConversationProblem(content) is (var problem, _))
        {
            return AnthropicError.BadRequest($"messages: the conversation (system, messages and tool results) {problem}.");
        }

        // Without a client key the exchange still needs one; a fresh one makes every such request its own.
        var generatedKey = clientKey.Length == 0;
        var key = generatedKey ? $"anthropic-{Guid.NewGuid():N}" : clientKey;
        var sessionId = ApiSessions.SessionId(tenant.Id, agentId, key);
        var input = new MessageInput(content, Channels.Api, request.Fingerprint(), request.Turns, request.Tools, request.Options);

        var stream = request.Stream ? new AnthropicMessageStream(context.Response, request.Model, replayed: false) : null;
        var outcome = await exchanges.ExchangeAsync(tenant.Id, sessionId, key, input, stream, cancellationToken, ensureSessionForAgent: agentId);
        await ApiSessions.CleanUpAsync(db, tenant.Id, sessionId, key, generatedKey, outcome);

        switch (outcome)
        {
            case ExchangeOutcome.Streamed:
                return TypedResults.Empty;
            case ExchangeOutcome.Answered { Replayed: true } replay when request.Stream:
                await StoredExchangeStream.WriteAsync(new AnthropicMessageStream(context.Response, request.Model, replayed: true), replay.Body);
                return TypedResults.Empty;
            case ExchangeOutcome.Answered answered:
                return new AgentApiJson(AnthropicMessages.Message(AnthropicMessages.FromExchange(answered.Body, request.Model)), answered.Replayed);
            default:
                return Error(outcome, request.Model, options.Value);
        }
    }

    private static readonly AgentApiErrors<AnthropicError> Errors = new(
        AnthropicError.BadRequest,
        AnthropicError.BadRequest,
        model => AnthropicError.BadRequest($"model: several agents are named '{model}'; name the model by the agent's id (GET /v1/models lists them)."),
        AnthropicError.ModelNotFound);

    private static (AnthropicRequest? Request, AnthropicError? Error) Parse(JsonElement root)
    {
        var (request, error) = AnthropicMessages.Parse(root);
        return error is null ? (request, null) : (null, AnthropicError.BadRequest(error));
    }

    /// <summary>An exchange that did not answer, as Anthropic's clients expect to read it.</summary>
    public static AnthropicError Error(ExchangeOutcome outcome, string model, IdempotencyOptions options)
    {
        switch (outcome)
        {
            case ExchangeOutcome.SessionNotFound or ExchangeOutcome.AgentDeleted:
                return AnthropicError.ModelNotFound(model);
            case ExchangeOutcome.KeyReused:
                return AnthropicError.ForStatus(StatusCodes.Status422UnprocessableEntity,
                    $"This {IdempotencyKey.HeaderName} was already used for a different request.");
            case ExchangeOutcome.InProgress:
                return AnthropicError.ForStatus(StatusCodes.Status409Conflict,
                    $"A request with this {IdempotencyKey.HeaderName} is still being processed; retry after a moment to get its answer.",
                    Math.Max(1, (int)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
            case ExchangeOutcome.ProvidersFailed failed:
                return AnthropicError.ForStatus(StatusCodes.Status502BadGateway,
                    $"Every provider attempt failed ({failed.Attempts.Count} attempts); nothing was charged and the request may be retried.");
            case ExchangeOutcome.ProviderRejected rejected:
                var code = rejected.Failure.UpstreamError?.Code;
                return AnthropicError.ForStatus(ProviderRefusal.Status(rejected.Failure),
                    ProviderRefusal.Message(rejected.Failure) + (code is null ? "" : $" ({code})"));
            case ExchangeOutcome.ProviderNotConfigured notConfigured:
                // Retrying cannot help until the agent is updated, which Anthropic's SDKs would otherwise do for a 409.
                return AnthropicError.ForStatus(StatusCodes.Status409Conflict,
                    $"The agent's provider or model is not configured any more: {notConfigured.Detail} Update the agent.", shouldRetry: false);
            case ExchangeOutcome.ProvidersUnavailable unavailable:
                return AnthropicError.ForStatus(StatusCodes.Status503ServiceUnavailable,
                    $"{unavailable.Detail} Nothing was charged and the request may be retried.", "1");
            default:
                throw new InvalidOperationException($"Unhandled exchange outcome {outcome.GetType().Name}.");
        }
    }

    /// <summary>
    /// An unreadable body is answered in Anthropic's shape with what was wrong; other failures before the answer began
    /// (a database outage's 503, an unexpected 500) reach the shared exception handlers, whose problems the Anthropic
    /// error writer shapes. Once a stream has begun nothing more can be said.
    /// </summary>
    private static async ValueTask<object?> AnthropicShapedFailures(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        try
        {
            return await next(invocation);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            return AnthropicError.ForStatus(ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "The request body is larger than this API accepts."
                : $"The request could not be read: {ex.Message}");
        }
    }

}
