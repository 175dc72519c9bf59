using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Http.HttpResults;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Tenancy.Data;
using StitchFin.Tenancy.Infrastructure;
using StitchFin.Tenancy.Keys;

namespace StitchFin.Tenancy.Tenants;

public sealed record CreateTenantRequest(string? Name);

public sealed record CreatedTenantResponse(Guid Id, string Name, string ApiKey, DateTimeOffset CreatedAt);

public sealed record TenantResponse(Guid Id, string Name, DateTimeOffset CreatedAt);

public static class TenantsApi
{
    public const string DefaultKeyName = "default";

    public static RouteGroupBuilder MapTenantsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/tenants").WithTags("Tenants");
        // The edge checks X-Admin-Key and then calls with an Admin identity; a tenant's own key cannot create tenants.
        group.MapPost("/", CreateTenant).RequireAuthorization(InternalPolicies.Admin);
        group.MapGet("/me", GetCurrentTenant);
        return group;
    }

    /// <summary>Creates the tenant and its first key in one SaveChanges, that is one transaction.</summary>
    public static async Task<Results<Created<CreatedTenantResponse>, ValidationProblem>> CreateTenant(
        CreateTenantRequest request,
        TenancyDbContext db,
        ApiKeySecrets secrets,
        KeyTelemetry telemetry,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (Names.Validate(request.Name, Tenant.MaxNameLength) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var now = time.UtcNowInMicroseconds();
        var tenant = new Tenant { Id = Guid.CreateVersion7(now), Name = request.Name!.Trim(), CreatedAt = now };
        var issued = secrets.Issue();
        var key = ApiKey.Issue(tenant.Id, DefaultKeyName, issued, now);
        db.Tenants.Add(tenant);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        telemetry.Issued(tenant.Id, key);

        return TypedResults.Created("/tenants/me", new CreatedTenantResponse(tenant.Id, tenant.Name, issued.Plaintext, tenant.CreatedAt));
    }

    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetCurrentTenant(
        CurrentTenant currentTenant,
        TenancyDbContext db,
        CancellationToken cancellationToken)
    {
        var tenantId = currentTenant.Id;
        var tenant = await db.Tenants.AsNoTracking()
            .Where(t => t.Id == tenantId)
            .Select(t => new TenantResponse(t.Id, t.Name, t.CreatedAt))
            .FirstOrDefaultAsync(cancellationToken);
        return tenant is null
            ? Problems.NotFound("Tenant not found", $"Tenant {tenantId} does not exist.")
            : TypedResults.Ok(tenant);
    }
}
