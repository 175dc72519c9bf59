using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StitchFin.Gateway.ApiKeys;
using Yarp.ReverseProxy.Configuration;
using ServiceDefaultsExtensions = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Gateway.Health;

/// <summary>
/// <c>GET /health</c> (the edge is up) and <c>GET /health/ready</c> (the edge and every service behind it). The
/// bus is reported beside the services and never makes the edge unready: every route the edge serves answers
/// without it, and the outboxes deliver the events once it is back.
/// </summary>
public static class ReadinessApi
{
    public const string HttpClientName = "readiness";

    /// <summary>The edge's own entry in the readiness report (its liveness; its bus is under <c>bus</c>, see <see cref="RevocationFeed"/>).</summary>
    public const string EdgeService = "gateway";

    /// <summary>The tag MassTransit gives its bus health check.</summary>
    private const string BusTag = "masstransit";

    /// <summary>The name of MassTransit's bus health check, as a service's <c>/health/ready</c> lists it.</summary>
    private const string BusCheck = "masstransit-bus";

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
        return body.Status != StatusUnavailable ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private const string StatusOk = "ok";
    private const string StatusDegraded = "degraded";
    private const string StatusUnavailable = "unavailable";

    /// <summary>
    /// Asks every service behind the edge, and the edge's own checks, whether they are ready. Status is
    /// <c>unavailable</c> (503) when one of them is not, <c>degraded</c> when all are but a bus connection is not
    /// healthy, else <c>ok</c>.
    /// </summary>
    public static async Task<EdgeReadiness> CheckAsync(
        IProxyConfigProvider proxyConfig, IHttpClientFactory httpClients, HealthCheckService edgeHealth, RevocationFeed revocations,
        CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(HttpClientName);
        var checks = proxyConfig.GetConfig().Clusters
            .SelectMany(cluster => (cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
                .Select(destination => (Service: cluster.ClusterId, destination.Value.Address)))
            .Select(async target => (target.Service, Readiness: await CheckServiceAsync(http, target.Address, cancellationToken)));
        var edge = edgeHealth.CheckHealthAsync(
            check => (check.Tags.Contains(ServiceDefaultsExtensions.ReadyTag) || check.Tags.Contains("live")) && !check.Tags.Contains(BusTag),
            cancellationToken);
        var results = await Task.WhenAll(checks);
        var services = results
            .GroupBy(r => r.Service)
            .ToDictionary(g => g.Key, g => g.All(r => r.Readiness.Ready) ? StatusOk : StatusUnavailable);
        var bus = results
            .Where(r => r.Readiness.Bus is not null)
            .GroupBy(r => r.Service)
            .ToDictionary(g => g.Key, g => Worst(g.Select(r => r.Readiness.Bus!)));
        services[EdgeService] = (await edge).Status == HealthStatus.Healthy ? StatusOk : StatusUnavailable;
        // The edge routes without the broker (keys are then re-verified with tenancy), so its bus is reported, not
        // required; "ok" means revocations are proven to reach it now.
        bus[EdgeService] = revocations.IsConnected ? StatusOk : StatusUnavailable;

        var overall = services.Values.Any(s => s != StatusOk) ? StatusUnavailable : bus.Values.Any(s => s != StatusOk) ? StatusDegraded : StatusOk;
        return new EdgeReadiness(overall, services, bus);
    }

    /// <summary>A service is ready when its <c>/health/ready</c> answers 2xx; its bus is what that answer says of it.</summary>
    private static async Task<(bool Ready, string? Bus)> CheckServiceAsync(HttpClient http, string address, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(new Uri(address), "/health/ready"), cancellationToken);
            return (response.IsSuccessStatusCode, BusOf(await response.Content.ReadAsStringAsync(cancellationToken)));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (false, null);
        }
    }

    /// <summary>The bus check in a service's <c>{"status","checks":{name:status}}</c>; null when it has none or the body is not that.</summary>
    private static string? BusOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("checks", out var checks) && checks.ValueKind == JsonValueKind.Object
                && checks.TryGetProperty(BusCheck, out var bus) && bus.ValueKind == JsonValueKind.String
                ? bus.GetString() switch { "healthy" => StatusOk, "degraded" => StatusDegraded, _ => StatusUnavailable }
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Worst(IEnumerable<string> statuses)
    {
        var all = statuses.ToList();
        return all.Contains(StatusUnavailable) ? StatusUnavailable : all.Contains(StatusDegraded) ? StatusDegraded : StatusOk;
    }

    public sealed record EdgeHealth(string Status);

    /// <param name="Status"><c>ok</c>, <c>degraded</c> (ready, with a bus connection down) or <c>unavailable</c>.</param>
    /// <param name="Services">Each service behind the edge, and the edge itself: <c>ok</c> or <c>unavailable</c>.</param>
    /// <param name="Bus">Each one's connection to RabbitMQ, as far as it reports one: <c>ok</c>, <c>degraded</c> or <c>unavailable</c>.</param>
    public sealed record EdgeReadiness(string Status, IReadOnlyDictionary<string, string> Services, IReadOnlyDictionary<string, string> Bus);
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
