using Microsoft.AspNetCore.Http.HttpResults;
using StitchFin.Metering.Data;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Metering.Usage;

public static class UsageApi
{
    public static RouteGroupBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/usage")
            .WithTags("Usage")
            .RequireAuthorization(InternalPolicies.Tenant);
        group.MapGet("", GetUsage);
        return group;
    }

    /// <summary>The current tenant's usage per Chicago day, provider and agent, from the rollups.</summary>
    public static async Task<Results<Ok<UsageReport>, ValidationProblem>> GetUsage(
        string? from,
        string? to,
        CurrentTenant tenant,
        MeteringDbContext db,
        CancellationToken cancellationToken)
    {
        if (UsageRange.Parse(from, to, out var errors) is not { } range)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await UsageReportQuery.LoadAsync(db, tenant.Id, range, cancellationToken));
    }
}
