using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StitchFin.Contracts.Tenancy;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Tenancy.Data;
using StitchFin.Tenancy.Infrastructure;

namespace StitchFin.Tenancy.Keys;

/// <summary>Key verification for the edge, called on a cache miss. The only query here that is not scoped to a tenant, by design.</summary>
public static class InternalKeysApi
{
    private static readonly Func<TenancyDbContext, string, CancellationToken, Task<KeyCandidate?>> FindByLookupId = EF.CompileAsyncQuery(
        (TenancyDbContext db, string lookupId, CancellationToken cancellationToken) => db.ApiKeys.AsNoTracking()
            .Where(k => k.LookupId == lookupId)
            .Select(k => new KeyCandidate(k.Id, k.TenantId, k.Hash, k.RevokedAt != null))
            .FirstOrDefault());

    public static RouteGroupBuilder MapInternalKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/internal/keys").WithTags("Internal").RequireAuthorization(InternalPolicies.Service);
        group.MapPost("/verify", VerifyKey);
        return group;
    }

    public static async Task<Results<Ok<VerifiedApiKey>, ValidationProblem, ProblemHttpResult>> VerifyKey(
        VerifyApiKeyRequest request,
        TenancyDbContext db,
        ApiKeySecrets secrets,
        KeyTelemetry telemetry,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.ApiKey))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["apiKey"] = ["The API key is required."] });
        }

        if (!ApiKeyFormat.TryReadLookupId(request.ApiKey, out var lookupId))
        {
            return Unknown(telemetry, "malformed");
        }

        var candidate = await FindByLookupId(db, lookupId, cancellationToken);
        if (candidate is null || !secrets.Matches(request.ApiKey, candidate.Hash))
        {
            return Unknown(telemetry, "unknown");
        }

        if (candidate.Revoked)
        {
            return Unknown(telemetry, "revoked");
        }

        telemetry.Verified("verified");
        return TypedResults.Ok(new VerifiedApiKey(candidate.TenantId, candidate.Id));
    }

    /// <summary>Malformed, unknown and revoked keys get the same answer, so the response reveals nothing about which it was.</summary>
    private static ProblemHttpResult Unknown(KeyTelemetry telemetry, string outcome)
    {
        telemetry.Verified(outcome);
        return Problems.NotFound("API key not recognised", "The API key is unknown or has been revoked.");
    }

    private sealed record KeyCandidate(Guid Id, Guid TenantId, byte[] Hash, bool Revoked);
}
