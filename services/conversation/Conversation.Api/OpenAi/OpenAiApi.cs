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

    public static async Task<Results<AgentApiJson, EmptyHttpResult, OpenAiError>> CreateChatCompletion(
        HttpContext context,
        ConversationDbContext db,
        MessageExchangeService exchanges,
        AgentModels models,
        CurrentTenant tenant,
        IOptions<IdempotencyOptions> options)
    {
        var (read, readError) = await AgentApiRequest.ReadAsync(
            context, db, models, tenant, ChatCompletionRequest.Parse, r => r.Model, OpenAiAgentApiErrors.Instance);
        if (readError is not null)
        {
            return readError;
        }

        var (request, agentId, clientKey) = read!;
        var cancellationToken = context.RequestAborted;
        var content = ConversationText.Flatten(request.Turns);
        if (MessageInput.ConversationProblem(content) is (var problem, var code))
        {
            return OpenAiError.BadRequest($"The conversation {problem}.", "messages", code);
        }

        // Without a client key the exchange still needs one; a fresh one makes every such request its own.
        var generatedKey = clientKey.Length == 0;
        var key = generatedKey ? $"openai-{Guid.NewGuid():N}" : clientKey;
        var sessionId = ApiSessions.SessionId(tenant.Id, agentId, key);

        var stream = request.Stream ? new ChatCompletionStream(context.Response, request.IncludeUsage, replayed: false) : null;
        var outcome = await exchanges.ExchangeAsync(
            tenant.Id, sessionId, key, new MessageInput(content, Channels.Api, request.Fingerprint(), request.Turns, request.Tools, request.Options), stream, cancellationToken, ensureSessionForAgent: agentId);
        await ApiSessions.CleanUpAsync(db, tenant.Id, sessionId, key, generatedKey, outcome);

        switch (outcome)
        {
            case ExchangeOutcome.Streamed:
                return TypedResults.Empty;
            case ExchangeOutcome.Answered { Replayed: true } replay when request.Stream:
                await StoredExchangeStream.WriteAsync(new ChatCompletionStream(context.Response, request.IncludeUsage, replayed: true), replay.Body);
                return TypedResults.Empty;
            case ExchangeOutcome.Answered answered:
                return new AgentApiJson(ChatCompletion.FromExchange(answered.Body, request.Model).ToJson(), answered.Replayed);
            default:
                return OpenAiOutcomes.Error(outcome, request.Model, options.Value);
        }
    }

    /// <summary>
    /// The tenant's agents as models, newest first: at most <c>limit</c> (1 to <see cref="AgentModels.MaxListLimit"/>,
    /// which is also the default), after the model <c>after</c> names (a previous page's <c>last_id</c>).
    /// </summary>
    public static async Task<Results<Ok<ModelList>, OpenAiError>> ListModels(
        string? limit, string? after, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken)
    {
        var size = AgentModels.MaxListLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > AgentModels.MaxListLimit))
        {
            return OpenAiError.BadRequest($"'limit' must be an integer from 1 to {AgentModels.MaxListLimit}.", "limit", "invalid_value");
        }

        var place = after is null ? null : await AgentModels.PlaceAsync(db, tenant.Id, after, cancellationToken);
        if (after is not null && place is null)
        {
            return OpenAiError.BadRequest(
                $"'after' must be the id of one of your models (the last_id of the previous page); '{after}' is not, or no longer.", "after", "invalid_value");
        }

        return TypedResults.Ok(await AgentModels.ListAsync(db, tenant.Id, place, size, cancellationToken));
    }

    public static async Task<Results<Ok<ModelEntry>, OpenAiError>> GetModel(
        string model, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken) =>
        await AgentModels.FindAsync(db, tenant.Id, model, cancellationToken) is { } entry
            ? TypedResults.Ok(entry)
            : OpenAiError.ModelNotFound(model);

}
