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
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.OpenAi;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Responses;

/// <summary>
/// OpenAI's Responses API over the tenant's agents (README "OpenAI Responses API"): a response is an ordinary exchange
/// on channel <c>api</c>; stored responses (the default) can be read, listed for their input, deleted and continued
/// with <c>previous_response_id</c>, a chain of responses being one session.
/// </summary>
public static class ResponsesApi
{
    public const int MaxInputItemsPage = 100;

    public static RouteGroupBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/responses").WithTags("OpenAI Responses");
        group.MapPost("/", CreateResponse);
        group.MapGet("/{id}", GetResponse);
        group.MapDelete("/{id}", DeleteResponse);
        group.MapGet("/{id}/input_items", ListInputItems);
        return group;
    }

    public static async Task<Results<AgentApiJson, EmptyHttpResult, OpenAiError>> CreateResponse(
        HttpContext context,
        ConversationDbContext db,
        MessageExchangeService exchanges,
        AgentModels models,
        CurrentTenant tenant,
        IOptions<IdempotencyOptions> options)
    {
        var (read, readError) = await AgentApiRequest.ReadAsync(
            context, db, models, tenant, OpenAiResponsesRequest.Parse, r => r.Model, OpenAiAgentApiErrors.Instance);
        if (readError is not null)
        {
            return readError;
        }

        var (request, agentId, clientKey) = read!;
        var cancellationToken = context.RequestAborted;
        ResponseChain? chain = null;
        if (request.PreviousResponseId is { } previousId)
        {
            chain = OpenAiResponseObject.TryParseId(previousId, out var previous)
                ? await ResponseChain.LoadAsync(db, tenant.Id, previous, cancellationToken)
                : null;
            if (chain is null)
            {
                return new OpenAiError(StatusCodes.Status404NotFound,
                    $"Previous response with id '{previousId}' not found.", OpenAiError.InvalidRequest, "previous_response_id", "previous_response_not_found");
            }

            if (chain.AgentId != agentId)
            {
                return OpenAiError.BadRequest(
                    $"Response '{previousId}' was answered by another agent; continue it with that agent's model.", "model", "model_mismatch");
            }
        }

        var turns = request.Turns(chain?.Turns ?? []);
        var content = ConversationText.Flatten(request.InputTurns);
        var promptText = ConversationText.Flatten(turns);
        if (MessageInput.ConversationProblem(promptText) is (var problem, var code))
        {
            return OpenAiError.BadRequest($"The conversation {problem}.", "input", code);
        }

        var generatedKey = clientKey.Length == 0;
        var key = generatedKey ? $"responses-{Guid.NewGuid():N}" : clientKey;
        var sessionId = chain?.SessionId ?? ApiSessions.SessionId(tenant.Id, agentId, key);
        var parameters = request.Parameters;
        var input = new MessageInput(content, Channels.Api, request.Fingerprint(agentId), turns, request.Tools, request.Options)
        {
            PromptText = promptText,
            InputTurns = request.InputTurns,
            Response = request.Store
                ? new ResponseRecord(chain is null ? null : Guid.ParseExact(request.PreviousResponseId![OpenAiResponseObject.Prefix.Length..], "N"),
                    parameters.GetRawText(), JsonSerializer.Serialize(request.InputItems, JsonDefaults.JsonOptions))
                : null,
        };
        var stream = request.Stream ? new ResponseEventStream(context.Response, parameters, request.PreviousResponseId, request.Store, replayed: false) : null;
        var outcome = await exchanges.ExchangeAsync(tenant.Id, sessionId, key, input, stream, cancellationToken,
            ensureSessionForAgent: chain is null ? agentId : null);
        if (chain is null)
        {
            // A continued chain's session is the earlier responses': it is never removed.
            await ApiSessions.CleanUpAsync(db, tenant.Id, sessionId, key, generatedKey, outcome);
        }

        switch (outcome)
        {
            case ExchangeOutcome.Streamed:
                return TypedResults.Empty;
            case ExchangeOutcome.Answered { Replayed: true } replay when request.Stream:
                await StoredExchangeStream.WriteAsync(
                    new ResponseEventStream(context.Response, parameters, request.PreviousResponseId, request.Store, replayed: true), replay.Body);
                return TypedResults.Empty;
            case ExchangeOutcome.Answered answered:
                return new AgentApiJson(
                    OpenAiResponseObject.ToJson(OpenAiResponseObject.FromExchange(answered.Body, parameters, request.PreviousResponseId, request.Store)),
                    answered.Replayed);
            default:
                return OpenAiOutcomes.Error(outcome, request.Model, options.Value);
        }
    }

    public static async Task<Results<AgentApiJson, OpenAiError>> GetResponse(string id, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken)
    {
        if (await FindAsync(db, tenant.Id, id, cancellationToken) is not { } found)
        {
            return NotFound(id);
        }

        var (stored, assistant, usage) = found;
        using var parameters = JsonDocument.Parse(stored.Request);
        var previous = stored.PreviousResponseId is { } previousId ? OpenAiResponseObject.ResponseId(previousId) : null;
        return new AgentApiJson(OpenAiResponseObject.ToJson(OpenAiResponseObject.FromAssistant(assistant, usage, parameters.RootElement, previous, store: true)), false);
    }

    public static async Task<Results<Ok<DeletedResponse>, OpenAiError>> DeleteResponse(
        string id, ConversationDbContext db, CurrentTenant tenant, TimeProvider time, CancellationToken cancellationToken)
    {
        var deleted = OpenAiResponseObject.TryParseId(id, out var responseId) && await db.Responses
            .Where(r => r.Id == responseId && r.TenantId == tenant.Id && r.DeletedAt == null)
            .ExecuteUpdateAsync(r => r.SetProperty(x => x.DeletedAt, time.GetUtcNow()), cancellationToken) == 1;
        return deleted ? TypedResults.Ok(new DeletedResponse(id, "response", true)) : NotFound(id);
    }

    public static async Task<Results<Ok<InputItemList>, OpenAiError>> ListInputItems(
        string id, ConversationDbContext db, CurrentTenant tenant, int? limit, string? order, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxInputItemsPage)
        {
            return OpenAiError.BadRequest($"'limit' must be from 1 to {MaxInputItemsPage}.", "limit", "invalid_value");
        }

        if (order is not (null or "asc" or "desc"))
        {
            return OpenAiError.BadRequest("'order' must be asc or desc.", "order", "invalid_value");
        }

        var stored = OpenAiResponseObject.TryParseId(id, out var responseId)
            ? await db.Responses.AsNoTracking().SingleOrDefaultAsync(r => r.Id == responseId && r.TenantId == tenant.Id && r.DeletedAt == null, cancellationToken)
            : null;
        if (stored is null)
        {
            return NotFound(id);
        }

        var items = JsonSerializer.Deserialize<JsonElement[]>(stored.InputItems, JsonDefaults.JsonOptions)!;
        var ordered = order == "asc" ? items : items.Reverse().ToArray();
        var page = ordered.Take(limit ?? 20).ToArray();
        return TypedResults.Ok(new InputItemList("list", page, Id(page.FirstOrDefault()), Id(page.LastOrDefault()), page.Length < ordered.Length));

        static string? Id(JsonElement item) => item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var itemId) ? itemId.GetString() : null;
    }

    private static async Task<(StoredResponse Stored, TranscriptMessage Assistant, MessageUsage Usage)?> FindAsync(
        ConversationDbContext db, Guid tenantId, string id, CancellationToken cancellationToken)
    {
        if (!OpenAiResponseObject.TryParseId(id, out var responseId))
        {
            return null;
        }

        var found = await db.Responses.AsNoTracking()
            .Where(r => r.Id == responseId && r.TenantId == tenantId && r.DeletedAt == null)
            .Join(db.Messages, r => r.Id, m => m.Id, (r, m) => new { Stored = r, Assistant = m })
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return null;
        }

        var assistant = found.Assistant.ToTranscriptMessage();
        var usage = new MessageUsage(assistant.Provider!, assistant.TokensIn ?? 0, assistant.TokensOut ?? 0, assistant.CostUsd ?? 0, assistant.Model,
            assistant.UsageEstimated ?? false, found.Assistant.CachedTokensIn ?? 0);
        return (found.Stored, assistant, usage);
    }

    private static OpenAiError NotFound(string id) =>
        new(StatusCodes.Status404NotFound, $"Response with id '{id}' not found.", OpenAiError.InvalidRequest, null, "not_found");
}

public sealed record DeletedResponse(string Id, [property: System.Text.Json.Serialization.JsonPropertyName("object")] string Kind, bool Deleted);

public sealed record InputItemList(
    [property: System.Text.Json.Serialization.JsonPropertyName("object")] string Kind,
    IReadOnlyList<JsonElement> Data,
    [property: System.Text.Json.Serialization.JsonPropertyName("first_id")] string? FirstId,
    [property: System.Text.Json.Serialization.JsonPropertyName("last_id")] string? LastId,
    [property: System.Text.Json.Serialization.JsonPropertyName("has_more")] bool HasMore);
