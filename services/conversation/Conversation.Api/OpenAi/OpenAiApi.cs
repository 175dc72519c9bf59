using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StitchFin.Contracts.Conversation;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// OpenAI-compatible chat completions and models over the tenant's agents (README "OpenAI-compatible API").
/// A completion is an ordinary exchange on channel <c>api</c> through <see cref="MessageExchangeService"/>.
/// </summary>
public static class OpenAiApi
{
    public static RouteGroupBuilder MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").WithTags("OpenAI");
        group.MapPost("/chat/completions", CreateChatCompletion);
        group.MapGet("/models", ListModels);
        group.MapGet("/models/{**model}", GetModel);
        return group;
    }

    public static async Task<Results<ChatCompletionResult, EmptyHttpResult, OpenAiError>> CreateChatCompletion(
        HttpContext context,
        ConversationDbContext db,
        MessageExchangeService exchanges,
        AgentModels models,
        CurrentTenant tenant,
        IOptions<IdempotencyOptions> options)
    {
        var cancellationToken = context.RequestAborted;
        var clientKey = context.Request.Headers[IdempotencyKey.HeaderName].ToString();
        if (clientKey.Length > 0 && IdempotencyKey.Problem(clientKey) is { } keyProblem)
        {
            return OpenAiError.BadRequest(keyProblem, null, "invalid_idempotency_key");
        }

        ChatCompletionRequest request;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, cancellationToken);
            var (parsed, error) = ChatCompletionRequest.Parse(document.RootElement);
            if (error is not null)
            {
                return error;
            }

            request = parsed!;
        }
        catch (JsonException ex)
        {
            return OpenAiError.BadRequest($"The request body is not valid JSON: {ex.Message}", null, "invalid_json");
        }

        Guid agentId;
        switch (await models.ResolveAsync(db, tenant.Id, request.Model, cancellationToken))
        {
            case AgentModels.Resolution.Found found:
                agentId = found.AgentId;
                break;
            case AgentModels.Resolution.Ambiguous:
                return OpenAiError.BadRequest(
                    $"Several agents are named '{request.Model}'; name the model by the agent's id (GET /v1/models lists them).", "model", "model_ambiguous");
            default:
                return OpenAiError.ModelNotFound(request.Model);
        }

        var turns = PromptMapping.Turns(request.Messages);
        var content = ConversationText.Flatten(turns);
        if (content.Length > MessageInput.MaxContentLength)
        {
            return OpenAiError.BadRequest(
                $"The messages map to {content.Length} characters of prompt content; at most {MessageInput.MaxContentLength} are accepted.",
                "messages", "context_length_exceeded");
        }

        if (MessageInput.Validate(content, Channels.Api, null).TryGetValue("content", out var contentErrors))
        {
            return OpenAiError.BadRequest($"The messages cannot be stored: {string.Join(" ", contentErrors)}", "messages", "invalid_value");
        }

        // Without a client key the exchange still needs one; a fresh one makes every such request its own.
        var generatedKey = clientKey.Length == 0;
        var key = generatedKey ? $"openai-{Guid.NewGuid():N}" : clientKey;
        var sessionId = ApiSessions.SessionId(tenant.Id, agentId, key);

        var stream = request.Stream ? new ChatCompletionStream(context.Response, request.IncludeUsage, replayed: false) : null;
        var outcome = await exchanges.ExchangeAsync(
            tenant.Id, sessionId, key, new MessageInput(content, Channels.Api, null, turns), stream, cancellationToken, ensureSessionForAgent: agentId);
        // A generated key is this request's alone; a reused key belongs to another request, so nothing else can be
        // storing into this session either way.
        if ((generatedKey && outcome is not (ExchangeOutcome.Answered or ExchangeOutcome.Streamed { Body: not null })) || outcome is ExchangeOutcome.KeyReused)
        {
            await ApiSessions.DeleteIfEmptyAsync(db, tenant.Id, sessionId, CancellationToken.None);
        }

        switch (outcome)
        {
            case ExchangeOutcome.Streamed:
                return TypedResults.Empty;
            case ExchangeOutcome.Answered { Replayed: true } replay when request.Stream:
                await StoredExchangeStream.WriteAsync(new ChatCompletionStream(context.Response, request.IncludeUsage, replayed: true), replay.Body);
                return TypedResults.Empty;
            case ExchangeOutcome.Answered answered:
                return new ChatCompletionResult(ChatCompletion.FromExchange(answered.Body, request.Model), answered.Replayed);
            case ExchangeOutcome.SessionNotFound or ExchangeOutcome.AgentDeleted:
                return OpenAiError.ModelNotFound(request.Model);
            case ExchangeOutcome.KeyReused:
                return new OpenAiError(StatusCodes.Status422UnprocessableEntity,
                    $"This {IdempotencyKey.HeaderName} was already used for a different request.", OpenAiError.InvalidRequest, null, "idempotency_key_reused");
            case ExchangeOutcome.InProgress:
                return new OpenAiError(StatusCodes.Status409Conflict,
                    $"A request with this {IdempotencyKey.HeaderName} is still being processed; retry after a moment to get its answer.",
                    OpenAiError.InvalidRequest, null, "request_in_progress", RetryAfterSeconds(options.Value.RetryAfter));
            case ExchangeOutcome.ProvidersFailed failed:
                return new OpenAiError(StatusCodes.Status502BadGateway,
                    $"Every provider attempt failed ({failed.Attempts.Count} attempts); nothing was charged and the request may be retried.",
                    OpenAiError.ServerError, null, "providers_failed");
            case ExchangeOutcome.ProviderRejected rejected:
                var error = rejected.Failure.UpstreamError;
                return new OpenAiError(ProviderRefusal.Status(rejected.Failure), ProviderRefusal.Message(rejected.Failure),
                    error?.Type ?? OpenAiError.InvalidRequest, error?.Param, error?.Code ?? "provider_rejected");
            case ExchangeOutcome.ProviderNotConfigured notConfigured:
                return new OpenAiError(StatusCodes.Status409Conflict,
                    $"The agent's provider or model is not configured any more: {notConfigured.Detail} Update the agent.",
                    OpenAiError.InvalidRequest, "model", "provider_not_configured");
            case ExchangeOutcome.ProvidersUnavailable unavailable:
                return new OpenAiError(StatusCodes.Status503ServiceUnavailable,
                    $"{unavailable.Detail} Nothing was charged and the request may be retried.", OpenAiError.ServerError, null, "providers_unavailable", "1");
            default:
                throw new InvalidOperationException($"Unhandled exchange outcome {outcome.GetType().Name}.");
        }
    }

    public static async Task<Ok<ModelList>> ListModels(ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ModelList("list", await AgentModels.ListAsync(db, tenant.Id, cancellationToken)));

    public static async Task<Results<Ok<ModelEntry>, OpenAiError>> GetModel(
        string model, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken) =>
        await AgentModels.FindAsync(db, tenant.Id, model, cancellationToken) is { } entry
            ? TypedResults.Ok(entry)
            : OpenAiError.ModelNotFound(model);

    private static string RetryAfterSeconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
