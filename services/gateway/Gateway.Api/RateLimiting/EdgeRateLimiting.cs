using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using StitchFin.Gateway.Authentication;
using StitchFin.Gateway.Http;

namespace StitchFin.Gateway.RateLimiting;

/// <summary>The rate-limiter policies routes name in configuration (<c>RateLimiterPolicy</c>).</summary>
public static class EdgeRateLimiting
{
    /// <summary>A token bucket per tenant, partitioned by the tenant the API key authenticated.</summary>
    public const string TenantPolicy = "tenant";

    /// <summary>A token bucket per client IP, for the admin route that has no tenant.</summary>
    public const string AdminPolicy = "admin";

    public static IServiceCollection AddEdgeRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<EdgeOptions>>((limiter, edge) =>
        {
            var settings = edge.Value.RateLimit;
            var bucket = new TokenBucketRateLimiterOptions
            {
                TokenLimit = settings.TokenLimit,
                TokensPerPeriod = settings.TokensPerPeriod,
                ReplenishmentPeriod = settings.ReplenishmentPeriod,
                QueueLimit = 0,
                AutoReplenishment = true,
            };

            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(TenantPolicy, context =>
                RateLimitPartition.GetTokenBucketLimiter(context.User.FindFirst(EdgeClaims.TenantId)?.Value ?? ClientAddress(context), _ => bucket));
            limiter.AddPolicy(AdminPolicy, context => RateLimitPartition.GetTokenBucketLimiter(ClientAddress(context), _ => bucket));
            limiter.OnRejected = async (rejected, _) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : settings.ReplenishmentPeriod;
                var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await EdgeProblems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
                    $"This tenant's request rate is over its limit; retry after {seconds} seconds.");
            };
        });
        return services;
    }

    private static string ClientAddress(HttpContext context) => "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
