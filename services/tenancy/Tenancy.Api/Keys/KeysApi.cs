using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StitchFin.Contracts.Tenancy;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Outbox;
using StitchFin.Tenancy.Data;
using StitchFin.Tenancy.Infrastructure;

namespace StitchFin.Tenancy.Keys;

public sealed record CreateApiKeyRequest(string? Name);

public sealed record CreatedApiKeyResponse(Guid Id, string Name, string ApiKey, string Prefix, DateTimeOffset CreatedAt);

public sealed record ApiKeyResponse(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>A tenant's own keys. Every query is filtered by the calling tenant, so another tenant's key id answers 404.</summary>
public static class KeysApi
{
    public static RouteGroupBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/keys").WithTags("Keys");
        group.MapPost("/", CreateKey);
        group.MapGet("/", ListKeys);
        group.MapDelete("/{id}", RevokeKey);
        return group;
    }

    public static async Task<Results<Created<CreatedApiKeyResponse>, ValidationProblem, ProblemHttpResult>> CreateKey(
        CreateApiKeyRequest request,
        CurrentTenant currentTenant,
        TenancyDbContext db,
        ApiKeySecrets secrets,
        KeyTelemetry telemetry,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (Names.Validate(request.Name, ApiKey.MaxNameLength) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var tenantId = currentTenant.Id;
        if (!await db.Tenants.AnyAsync(t => t.Id == tenantId, cancellationToken))
        {
            return Problems.NotFound("Tenant not found", $"Tenant {tenantId} does not exist.");
        }

        var issued = secrets.Issue();
        var key = ApiKey.Issue(tenantId, request.Name!.Trim(), issued, time.UtcNowInMicroseconds());
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        telemetry.Issued(tenantId, key);

        return TypedResults.Created($"/keys/{key.Id}", new CreatedApiKeyResponse(key.Id, key.Name, issued.Plaintext, key.Prefix, key.CreatedAt));
    }

    /// <summary>The most keys one page of <c>GET /keys</c> holds, and the page size when none is asked for.</summary>
    public const int MaxListLimit = 100;

    /// <summary>Newest first, a page at a time (<see cref="NewestFirstPage"/>): revoked keys stay listed, so a tenant's keys only grow.</summary>
    public static async Task<Results<Ok<List<ApiKeyResponse>>, ValidationProblem>> ListKeys(
        string? limit,
        string? before,
        string? beforeId,
        CurrentTenant currentTenant,
        TenancyDbContext db,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var page = NewestFirstPage.Parse(limit, before, beforeId, MaxListLimit, MaxListLimit, "keys", errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var tenantId = currentTenant.Id;
        var keys = db.ApiKeys.AsNoTracking().Where(k => k.TenantId == tenantId);
        if (page is { Before: { } time, BeforeId: { } id })
        {
            keys = keys.Where(k => EF.Functions.LessThan(ValueTuple.Create(k.CreatedAt, k.Id), ValueTuple.Create(time, id)));
        }
        else if (page.Before is { } onlyTime)
        {
            keys = keys.Where(k => k.CreatedAt < onlyTime);
        }

        var list = await keys
            .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id)
            .Take(page.Limit)
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.CreatedAt, k.LastUsedAt, k.RevokedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(list);
    }

    /// <summary>
    /// Revokes with a conditional UPDATE, so of two concurrent revocations exactly one changes the row and writes
    /// <see cref="ApiKeyRevoked"/> to the outbox in the same transaction; repeating a revocation is a quiet 204.
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(
        Guid id,
        CurrentTenant currentTenant,
        TenancyDbContext db,
        OutboxSignal outbox,
        KeyTelemetry telemetry,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var tenantId = currentTenant.Id;
        var now = time.UtcNowInMicroseconds();
        var outcome = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var changed = await db.ApiKeys
                .Where(k => k.Id == id && k.TenantId == tenantId && k.RevokedAt == null)
                .ExecuteUpdateAsync(setters => setters.SetProperty(k => k.RevokedAt, now), ct);
            if (changed == 0)
            {
                return await db.ApiKeys.AnyAsync(k => k.Id == id && k.TenantId == tenantId, ct)
                    ? RevokeOutcome.AlreadyRevoked
                    : RevokeOutcome.NotFound;
            }

            var eventId = Guid.CreateVersion7(now);
            db.AddOutboxMessage(eventId, new ApiKeyRevoked(eventId, tenantId, id, now), now);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return RevokeOutcome.Revoked;
        }, cancellationToken);

        if (outcome == RevokeOutcome.NotFound)
        {
            return Problems.NotFound("API key not found", $"There is no API key {id} for this tenant.");
        }

        if (outcome == RevokeOutcome.Revoked)
        {
            outbox.Notify();
            telemetry.Revoked(tenantId, id);
        }

        return TypedResults.NoContent();
    }

    private enum RevokeOutcome
    {
        Revoked,
        AlreadyRevoked,
        NotFound,
    }
}
