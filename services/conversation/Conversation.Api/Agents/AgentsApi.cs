using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StitchFin.Conversation.Completions;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.OpenAi;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Conversation.Agents;

public static class AgentsApi
{
    public static RouteGroupBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/agents").WithTags("Agents");
        group.MapGet("/", ListAgents);
        group.MapPost("/", CreateAgent);
        group.MapGet("/{id:guid}", GetAgent);
        group.MapPut("/{id:guid}", UpdateAgent);
        group.MapDelete("/{id:guid}", DeleteAgent);
        return group;
    }

    /// <summary>The most agents one page of <c>GET /agents</c> holds, and the page size when none is asked for.</summary>
    public const int MaxListLimit = 100;

    public static async Task<Results<Ok<List<AgentResponse>>, ValidationProblem>> ListAgents(
        string? limit, string? before, string? beforeId, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var page = NewestFirstPage.Parse(limit, before, beforeId, MaxListLimit, MaxListLimit, "agents", errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var agents = db.LiveAgents(tenant.Id).AsNoTracking();
        if (page is { Before: { } time, BeforeId: { } id })
        {
            agents = agents.Where(a => EF.Functions.LessThan(ValueTuple.Create(a.CreatedAt, a.Id), ValueTuple.Create(time, id)));
        }
        else if (page.Before is { } onlyTime)
        {
            agents = agents.Where(a => a.CreatedAt < onlyTime);
        }

        var list = await agents
            .OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
            .Take(page.Limit)
            .Select(a => new AgentResponse(a.Id, a.Name, a.PrimaryProvider, a.PrimaryModel, a.FallbackProvider, a.FallbackModel, a.SystemPrompt, a.CreatedAt, a.UpdatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(list);
    }

    public static async Task<Results<Created<AgentResponse>, ValidationProblem, ProblemHttpResult>> CreateAgent(
        AgentRequest request, ConversationDbContext db, CurrentTenant tenant, TimeProvider time, ProviderCatalog catalog, AgentModels models,
        HttpResponse response, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(cancellationToken) is not { } providers)
        {
            return CatalogUnavailable(response);
        }

        var errors = AgentValidator.Validate(request, providers);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = time.GetUtcNowMicroseconds();
        var agent = new Agent
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenant.Id,
            Name = request.Name!,
            PrimaryProvider = request.PrimaryProvider!,
            PrimaryModel = request.PrimaryModel,
            FallbackProvider = request.FallbackProvider,
            FallbackModel = request.FallbackModel,
            SystemPrompt = request.SystemPrompt ?? "",
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Agents.Add(agent);
        await db.SaveChangesAsync(cancellationToken);
        models.Forget(tenant.Id);
        return TypedResults.Created($"/agents/{agent.Id}", agent.ToResponse());
    }

    public static async Task<Results<Ok<AgentResponse>, NotFound>> GetAgent(
        Guid id, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken)
    {
        var agent = await db.LiveAgents(tenant.Id).AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        return agent is null ? TypedResults.NotFound() : TypedResults.Ok(agent.ToResponse());
    }

    public static async Task<Results<Ok<AgentResponse>, NotFound, ValidationProblem, ProblemHttpResult>> UpdateAgent(
        Guid id, AgentRequest request, ConversationDbContext db, CurrentTenant tenant, TimeProvider time, ProviderCatalog catalog, AgentModels models,
        HttpResponse response, CancellationToken cancellationToken)
    {
        var agent = await db.LiveAgents(tenant.Id).SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (agent is null)
        {
            return TypedResults.NotFound();
        }

        if (await catalog.GetAsync(cancellationToken) is not { } providers)
        {
            return CatalogUnavailable(response);
        }

        var errors = AgentValidator.Validate(request, providers);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        agent.Name = request.Name!;
        agent.PrimaryProvider = request.PrimaryProvider!;
        agent.PrimaryModel = request.PrimaryModel;
        agent.FallbackProvider = request.FallbackProvider;
        agent.FallbackModel = request.FallbackModel;
        agent.SystemPrompt = request.SystemPrompt ?? "";
        agent.UpdatedAt = time.GetUtcNowMicroseconds();
        await db.SaveChangesAsync(cancellationToken);
        models.Forget(tenant.Id);
        return TypedResults.Ok(agent.ToResponse());
    }

    public static async Task<Results<NoContent, NotFound>> DeleteAgent(
        Guid id, ConversationDbContext db, CurrentTenant tenant, TimeProvider time, AgentModels models, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowMicroseconds();
        var deleted = await db.LiveAgents(tenant.Id)
            .Where(a => a.Id == id)
            .ExecuteUpdateAsync(agent => agent.SetProperty(a => a.DeletedAt, now).SetProperty(a => a.UpdatedAt, now), cancellationToken);
        models.Forget(tenant.Id);
        return deleted == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    /// <summary>The providers cannot be checked, so the agent cannot be either; nothing was written.</summary>
    private static ProblemHttpResult CatalogUnavailable(HttpResponse response)
    {
        response.Headers.RetryAfter = "1";
        return TypedResults.Problem(
            "The list of providers cannot be read right now, so the agent's providers cannot be checked; nothing was saved. Try again in a moment.",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            title: "Providers unavailable");
    }

    /// <summary>This tenant's agents that are not deleted: the only ones the agents API and new sessions see.</summary>
    public static IQueryable<Agent> LiveAgents(this ConversationDbContext db, Guid tenantId) =>
        db.Agents.Where(a => a.TenantId == tenantId && a.DeletedAt == null);
}
