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

    public static async Task<Ok<ModelList>> ListModels(ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ModelList("list", await AgentModels.ListAsync(db, tenant.Id, cancellationToken)));

    public static async Task<Results<Ok<ModelEntry>, OpenAiError>> GetModel(
        string model, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken) =>
        await AgentModels.FindAsync(db, tenant.Id, model, cancellationToken) is { } entry
            ? TypedResults.Ok(entry)
            : OpenAiError.ModelNotFound(model);

}
