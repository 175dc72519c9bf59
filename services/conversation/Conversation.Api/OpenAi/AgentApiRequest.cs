using System.Text.Json;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Idempotency;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Conversation.OpenAi;

/// <summary>How one agent API words the refusals every agent API shares, in its own error shape.</summary>
public sealed record AgentApiErrors<TError>(
    Func<string, TError> InvalidIdempotencyKey,
    Func<string, TError> InvalidJson,
    Func<string, TError> AmbiguousModel,
    Func<string, TError> ModelNotFound);

/// <summary>
/// What every agent API (chat completions, responses, Anthropic messages) does before its exchange: the client's
/// <c>Idempotency-Key</c> checked, the body read as JSON and parsed by the API's own reader, and its <c>model</c>
/// resolved to one of the tenant's agents. Each API answers the refusals in its own shape.
/// </summary>
public static class AgentApiRequest
{
    public static async Task<(AgentApiRequest<TRequest>? Request, TError? Error)> ReadAsync<TRequest, TError>(
        HttpContext context,
        ConversationDbContext db,
        AgentModels models,
        CurrentTenant tenant,
        Func<JsonElement, (TRequest? Request, TError? Error)> parse,
        Func<TRequest, string> model,
        AgentApiErrors<TError> errors)
        where TRequest : class
        where TError : class
    {
        var cancellationToken = context.RequestAborted;
        var clientKey = context.Request.Headers[IdempotencyKey.HeaderName].ToString();
        if (clientKey.Length > 0 && IdempotencyKey.Problem(clientKey) is { } keyProblem)
        {
            return (null, errors.InvalidIdempotencyKey(keyProblem));
        }

        TRequest request;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, cancellationToken);
            var (parsed, error) = parse(document.RootElement);
            if (error is not null)
            {
                return (null, error);
            }

            request = parsed!;
        }
        catch (JsonException ex)
        {
            return (null, errors.InvalidJson($"The request body is not valid JSON: {ex.Message}"));
        }

        var name = model(request);
        switch (await models.ResolveAsync(db, tenant.Id, name, cancellationToken))
        {
            case AgentModels.Resolution.Found found:
                return (new AgentApiRequest<TRequest>(request, found.AgentId, clientKey), null);
            case AgentModels.Resolution.Ambiguous:
                return (null, errors.AmbiguousModel(name));
            default:
                return (null, errors.ModelNotFound(name));
        }
    }
}

/// <summary>An agent API's request as its reader parsed it, the agent its model names, and the client's key (or "").</summary>
public sealed record AgentApiRequest<TRequest>(TRequest Request, Guid AgentId, string ClientKey);

/// <summary>The shared refusals in OpenAI's shape, for chat completions and responses.</summary>
public static class OpenAiAgentApiErrors
{
    public static readonly AgentApiErrors<OpenAiError> Instance = new(
        problem => OpenAiError.BadRequest(problem, null, "invalid_idempotency_key"),
        message => OpenAiError.BadRequest(message, null, "invalid_json"),
        model => OpenAiError.BadRequest(
            $"Several agents are named '{model}'; name the model by the agent's id (GET /v1/models lists them).", "model", "model_ambiguous"),
        OpenAiError.ModelNotFound);
}

/// <summary>
/// An agent API's whole answer (a chat completion, a response, an Anthropic message) as rendered from the stored
/// exchange, written as it is, so a replay is byte-identical and says so in <c>Idempotent-Replayed</c>.
/// </summary>
public sealed class AgentApiJson(byte[] body, bool replayed) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        if (replayed)
        {
            response.Headers[IdempotencyKey.ReplayedHeaderName] = "true";
        }

        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}
