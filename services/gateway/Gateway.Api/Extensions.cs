using Microsoft.Extensions.Options;
using StitchFin.Gateway.ApiKeys;
using StitchFin.Gateway.Authentication;
using StitchFin.Gateway.Consumers;
using StitchFin.Gateway.Dashboard;
using StitchFin.Gateway.Health;
using StitchFin.Gateway.Http;
using StitchFin.Gateway.Proxy;
using StitchFin.Gateway.RateLimiting;
using StitchFin.ServiceDefaults;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Messaging;

namespace StitchFin.Gateway;

public static class Extensions
{
    public const string CorsPolicy = "edge";

    /// <summary>Headers a browser client may read from a cross-origin response.</summary>
    private static readonly string[] ExposedHeaders =
        ["Retry-After", "Idempotent-Replayed", "X-Transcript", "X-Reply-Text", "X-Session-Message-Id", RequestIds.HeaderName];

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // The edge signs for every service it routes to: its clusters are named after them.
        builder.AddInternalIdentitySigning([.. builder.Configuration.GetSection("ReverseProxy:Clusters").GetChildren().Select(cluster => cluster.Key)]);
        services.AddOptions<EdgeOptions>()
            .Bind(builder.Configuration.GetSection(EdgeOptions.SectionName))
            // Development may leave it empty, which turns admin calls off.
            .ValidateSecret($"{EdgeOptions.SectionName}:AdminKey", o => o.AdminKey, shortAllowedInDevelopment: true)
            .Validate(o => o.RateLimit is { TokenLimit: > 0, TokensPerPeriod: > 0 } && o.RateLimit.ReplenishmentPeriod > TimeSpan.Zero,
                "Edge:RateLimit needs a positive TokenLimit, TokensPerPeriod and ReplenishmentPeriod.")
            .Validate(o => o.ApiKeys.CacheDuration > TimeSpan.Zero && o.ApiKeys.UsageInterval > TimeSpan.Zero && o.ApiKeys.CacheSizeLimit > 0,
                "Edge:ApiKeys needs a positive CacheDuration, UsageInterval and CacheSizeLimit.")
            .Validate(o => o.ResponseHeadersTimeout > TimeSpan.Zero, "Edge:ResponseHeadersTimeout must be positive.")
            .Validate(o => o.ApiKeys.ConnectionProbeInterval > TimeSpan.Zero && o.ApiKeys.ConnectionProbeInterval < o.ApiKeys.TrustWhileDisconnected,
                "Edge:ApiKeys needs a positive ConnectionProbeInterval shorter than TrustWhileDisconnected, or a connected edge would re-verify keys.")
            .ValidateOnStart();
        services.AddEdgeProblemDetails();
        services.AddAgentApiErrors();

        services.AddHttpClient(ReadinessApi.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(2));
        services.AddHttpClient(TenancyKeyClient.HttpClientName, (provider, http) =>
        {
            http.BaseAddress = new Uri(builder.Configuration["Services:Tenancy"] ?? "http://127.0.0.1:5101");
            http.Timeout = provider.GetRequiredService<IOptions<EdgeOptions>>().Value.ApiKeys.VerifyTimeout;
        });
        services.AddSingleton<TenancyKeyClient>();
        services.AddSingleton<RevocationFeed>();
        services.AddSingleton<ApiKeyVerifier>();
        services.AddSingleton<FailedAuthenticationLimiter>();
        services.AddSingleton<ReadinessCache>();
        services.AddSingleton<ApiKeyUsageTracker>();
        services.AddEdgeAuthentication();
        services.AddEdgeRateLimiting();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<EdgeOptions>>((cors, edge) =>
            cors.AddPolicy(CorsPolicy, policy => policy
                .WithOrigins(edge.Value.Cors.Origins)
                .AllowAnyHeader()
                .AllowAnyMethod()
                .WithExposedHeaders(ExposedHeaders)));

        builder.AddMessaging(
            bus => bus.AddConsumer<ApiKeyRevokedConsumer>(),
            ApiKeyRevocations.ConfigureEndpoint);
        // Registered after the bus so they stop first: the last usages are reported while the bus is up.
        services.AddHostedService<ApiKeyUsagePublisher>();
        services.AddHostedService<RevocationProbeSender>();

        services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms(ForwardingTransforms.Apply)
            .AddResponseHeadersTimeouts();
        return builder;
    }

    /// <summary>
    /// The edge pipeline: request id, routing, CORS, body limits, authentication, rate limits, the route's bound on
    /// its service's response headers, then the routes.
    /// </summary>
    public static WebApplication MapGatewayEndpoints(this WebApplication app)
    {
        app.UseRequestIds();
        app.UseRouting();
        app.UseCors();
        app.UseDashboard();
        app.UseRequestBodyLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseProxyErrorProblems();
        // After the edge's own checks, so a route's bound is the wait on its service; inside the proxy's problems,
        // which are written once the timeout has handed back the client's own cancellation token.
        app.UseRequestTimeouts();

        app.MapReadinessApi();
        app.MapReverseProxy();
        return app;
    }
}
