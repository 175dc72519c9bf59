using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Data;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Conversation.Sessions;

public static class SessionsApi
{
    public static RouteGroupBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sessions").WithTags("Sessions");
        group.MapPost("/", CreateSession);
        group.MapGet("/", ListSessions);
        group.MapGet("/{id:guid}", GetSession);
        group.MapGet("/{id:guid}/transcript", GetTranscript);
        return group;
    }

    public static async Task<Results<Created<SessionResponse>, NotFound, ValidationProblem>> CreateSession(
        CreateSessionRequest request, ConversationDbContext db, CurrentTenant tenant, TimeProvider time, CancellationToken cancellationToken)
    {
        if (request.AgentId is not { } agentId || agentId == Guid.Empty)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["agentId"] = ["agentId is required."] });
        }

        if (!await db.LiveAgents(tenant.Id).AnyAsync(a => a.Id == agentId, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var now = time.GetUtcNowMicroseconds();
        var session = new Session { Id = Guid.CreateVersion7(now), TenantId = tenant.Id, AgentId = agentId, CreatedAt = now };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/sessions/{session.Id}", session.ToResponse());
    }

    public static async Task<Results<Ok<List<SessionResponse>>, ValidationProblem>> ListSessions(
        string? agentId, string? limit, string? before, string? beforeId, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken)
    {
        var query = SessionListQuery.Parse(agentId, limit, before, beforeId, out var errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var sessions = db.Sessions.AsNoTracking().Where(s => s.TenantId == tenant.Id);
        if (query.AgentId is { } agent)
        {
            sessions = sessions.Where(s => s.AgentId == agent);
        }

        if (query is { Before: { } cursor, BeforeId: { } cursorId })
        {
            // A row comparison, so the index on (tenant, createdAt, id) finds where the page starts.
            sessions = sessions.Where(s => EF.Functions.LessThan(ValueTuple.Create(s.CreatedAt, s.Id), ValueTuple.Create(cursor, cursorId)));
        }
        else if (query.Before is { } time)
        {
            sessions = sessions.Where(s => s.CreatedAt < time);
        }

        var page = await sessions
            .OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id)
            .Take(query.Limit)
            .Select(s => new SessionResponse(s.Id, s.AgentId, s.CreatedAt, s.LastMessageAt, s.MessageCount))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(page);
    }

    public static async Task<Results<Ok<SessionResponse>, NotFound>> GetSession(
        Guid id, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken)
    {
        var session = await db.Sessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id && s.TenantId == tenant.Id, cancellationToken);
        return session is null ? TypedResults.NotFound() : TypedResults.Ok(session.ToResponse());
    }

    public static async Task<Results<Ok<TranscriptResponse>, NotFound, ValidationProblem>> GetTranscript(
        Guid id, string? limit, string? order, string? after, ConversationDbContext db, CurrentTenant tenant, CancellationToken cancellationToken)
    {
        var query = TranscriptQuery.Parse(limit, order, after, out var errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var tenantId = tenant.Id;
        var agentId = await db.Sessions.Where(s => s.Id == id && s.TenantId == tenantId).Select(s => (Guid?)s.AgentId).SingleOrDefaultAsync(cancellationToken);
        if (agentId is null)
        {
            return TypedResults.NotFound();
        }

        var messages = db.Messages.AsNoTracking().Where(m => m.SessionId == id && m.TenantId == tenantId);
        if (query.After is { } afterId)
        {
            var cursor = await messages.Where(m => m.Id == afterId).Select(m => (int?)m.Sequence).SingleOrDefaultAsync(cancellationToken);
            if (cursor is not { } sequence)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["after"] = ["after must be the id of a message of this session: the last message of the previous page."],
                });
            }

            messages = query.NewestFirst ? messages.Where(m => m.Sequence < sequence) : messages.Where(m => m.Sequence > sequence);
        }

        // One more than the page tells whether there is a next page; the unique index on (session, sequence) serves both orders.
        var page = await (query.NewestFirst ? messages.OrderByDescending(m => m.Sequence) : messages.OrderBy(m => m.Sequence))
            .Take(query.Limit + 1)
            .ToListAsync(cancellationToken);
        var hasMore = page.Count > query.Limit;
        var shown = page.Take(query.Limit).Select(m => m.ToTranscriptMessage()).ToList();
        return TypedResults.Ok(new TranscriptResponse(id, agentId.Value, shown, hasMore));
    }
}
