using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StitchFin.Gateway.ApiKeys;
using Yarp.ReverseProxy.Configuration;
using ServiceDefaultsExtensions = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Gateway.Health;

/// <summary><c>GET /health</c> (the edge is up) and <c>GET /health/ready</c> (the edge and every service behind it).</summary>
public static class ReadinessApi
{
    public const string HttpClientName = "readiness";

    /// <summary>The edge's own entry in the readiness report (its liveness; not its bus, see <see cref="EdgeReadiness.Bus"/>).</summary>
    public const string EdgeService = "gateway";

    public static IEndpointRouteBuilder MapReadinessApi(this IEndpointRouteBuilder app)
    {
        // Ordered ahead of the shared health-check endpoint on the same path: at the edge, "ready" means everything.
        app.MapGet("/health", () => TypedResults.Ok(new EdgeHealth("ok"))).AllowAnonymous().DisableRateLimiting().WithOrder(-1);
        app.MapGet("/health/ready", GetReadinessAsync).AllowAnonymous().DisableRateLimiting().WithOrder(-1);
        return app;
    }

    public static async Task<Results<Ok<EdgeReadiness>, JsonHttpResult<EdgeReadiness>>> GetReadinessAsync(ReadinessCache cache)
    {
        var body = await cache.GetAsync();
        return body.Status == "ok" ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Asks every service behind the edge, and the edge's own checks, whether they are ready.</summary>
    public static async Task<EdgeReadiness> CheckAsync(
        IProxyConfigProvider proxyConfig, IHttpClientFactory httpClients, HealthCheckService edgeHealth, RevocationFeed revocations,
        CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(HttpClientName);
        var checks = proxyConfig.GetConfig().Clusters
            .SelectMany(cluster => (cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
                .Select(destination => (Service: cluster.ClusterId, destination.Value.Address)))
            .Select(async target => (target.Service, Ready: await IsReadyAsync(http, target.Address, cancellationToken)));
        // The edge routes without the broker (keys are then re-verified with tenancy), so its bus is reported, not required.
        var edge = edgeHealth.CheckHealthAsync(
            check => (check.Tags.Contains(ServiceDefaultsExtensions.ReadyTag) || check.Tags.Contains("live")) && !check.Tags.Contains("masstransit"),
            cancellationToken);
        var results = await Task.WhenAll(checks);
        var services = results
            .GroupBy(r => r.Service)
            .ToDictionary(g => g.Key, g => g.All(r => r.Ready) ? "ok" : "unavailable");
        services[EdgeService] = (await edge).Status == HealthStatus.Healthy ? "ok" : "unavailable";
        var ready = services.Values.All(status => status == "ok");
        return new EdgeReadiness(ready ? "ok" : "unavailable", services, revocations.IsConnected ? "ok" : "unavailable");
    }

    private static async Task<bool> IsReadyAsync(HttpClient http, string address, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(new Uri(address), "/health/ready"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public sealed record EdgeHealth(string Status);

    /// <param name="Bus">Whether the edge is hearing revocations over the broker now (see <see cref="RevocationFeed"/>).</param>
    public sealed record EdgeReadiness(string Status, IReadOnlyDictionary<string, string> Services, string Bus);
}

/// <summary>
/// The edge's readiness report, kept for <see cref="EdgeOptions.ReadinessCacheDuration"/>: anonymous callers cannot
/// turn <c>/health/ready</c> into a fan-out to every service, and concurrent callers share one round of checks.
/// </summary>
public sealed class ReadinessCache(
    IProxyConfigProvider proxyConfig, IHttpClientFactory httpClients, HealthCheckService edgeHealth, RevocationFeed revocations,
    TimeProvider time, Microsoft.Extensions.Options.IOptions<EdgeOptions> options)
{
    private readonly Lock _lock = new();
    private Task<ReadinessApi.EdgeReadiness>? _current;
    private DateTimeOffset _checkedAt;

    public Task<ReadinessApi.EdgeReadiness> GetAsync()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_current is null || (_current.IsCompleted && now - _checkedAt >= options.Value.ReadinessCacheDuration))
            {
                _checkedAt = now;
                // One caller's going away must not fail the round every other caller waits for.
                _current = ReadinessApi.CheckAsync(proxyConfig, httpClients, edgeHealth, revocations, CancellationToken.None);
            }

            return _current;
        }
    }
}
