using Microsoft.AspNetCore.Http.HttpResults;
using Yarp.ReverseProxy.Configuration;

namespace StitchFin.Gateway.Health;

/// <summary><c>GET /health</c> (the edge is up) and <c>GET /health/ready</c> (the edge and every service behind it).</summary>
public static class ReadinessApi
{
    public const string HttpClientName = "readiness";

    public static IEndpointRouteBuilder MapReadinessApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => TypedResults.Ok(new EdgeHealth("ok"))).AllowAnonymous().DisableRateLimiting();
        app.MapGet("/health/ready", GetReadinessAsync).AllowAnonymous().DisableRateLimiting();
        return app;
    }

    public static async Task<Results<Ok<EdgeReadiness>, JsonHttpResult<EdgeReadiness>>> GetReadinessAsync(
        IProxyConfigProvider proxyConfig, IHttpClientFactory httpClients, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(HttpClientName);
        var checks = proxyConfig.GetConfig().Clusters
            .SelectMany(cluster => (cluster.Destinations ?? new Dictionary<string, DestinationConfig>())
                .Select(destination => (Service: cluster.ClusterId, destination.Value.Address)))
            .Select(async target => (target.Service, Ready: await IsReadyAsync(http, target.Address, cancellationToken)));
        var results = await Task.WhenAll(checks);
        var services = results
            .GroupBy(r => r.Service)
            .ToDictionary(g => g.Key, g => g.All(r => r.Ready) ? "ok" : "unavailable");
        var ready = services.Values.All(status => status == "ok");
        var body = new EdgeReadiness(ready ? "ok" : "unavailable", services);
        return ready ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
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

    public sealed record EdgeReadiness(string Status, IReadOnlyDictionary<string, string> Services);
}
