using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace StitchFin.Gateway.Proxy;

/// <summary>
/// Bounds, per route, how long the edge waits for a service's response headers: the route's own <c>Timeout</c>, else
/// <see cref="EdgeOptions.ResponseHeadersTimeout"/>. YARP puts the route's timeout on its endpoint and ASP.NET Core's
/// request timeout runs it, counted from when the request passed the edge's own checks (authentication, rate limit);
/// once the headers have arrived it is switched off, so a streamed reply is never cut after it began. From then on
/// the cluster's <c>HttpRequest:ActivityTimeout</c> bounds each silence between chunks.
/// </summary>
public static class ResponseHeadersTimeouts
{
    /// <summary>YARP's activity timeout for a cluster that sets none.</summary>
    private static readonly TimeSpan DefaultActivityTimeout = TimeSpan.FromSeconds(100);

    public static IReverseProxyBuilder AddResponseHeadersTimeouts(this IReverseProxyBuilder proxy)
    {
        proxy.Services.AddRequestTimeouts();
        proxy.AddConfigFilter<RouteTimeouts>();
        return proxy.AddTransforms(Apply);
    }

    /// <summary>True when the route's bound ran out before the service's response headers arrived.</summary>
    public static bool TimedOut(HttpContext context) => context.Features.Get<TimedOutFeature>() is not null;

    private static void Apply(TransformBuilderContext builder) => builder.AddResponseTransform(context =>
    {
        var timeout = context.HttpContext.Features.Get<IHttpRequestTimeoutFeature>();
        if (context.ProxyResponse is not null)
        {
            timeout?.DisableTimeout();
        }
        else if (timeout is { RequestTimeoutToken.IsCancellationRequested: true })
        {
            // YARP sees only its request token cancelled (a 400 or 502 "RequestCanceled", as when the client leaves);
            // this tells ProxyErrorProblems that it was the bound, once the timeout has given the client's token back.
            context.HttpContext.Features.Set(TimedOutFeature.Instance);
        }

        return ValueTask.CompletedTask;
    });

    private sealed class TimedOutFeature
    {
        public static readonly TimedOutFeature Instance = new();
    }

    /// <summary>Gives every route without a timeout of its own the default, and refuses one its cluster would pre-empt.</summary>
    internal sealed class RouteTimeouts(IOptions<EdgeOptions> edge) : IProxyConfigFilter
    {
        public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => ValueTask.FromResult(cluster);

        public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
        {
            if (route.Timeout is null && string.IsNullOrEmpty(route.TimeoutPolicy))
            {
                route = route with { Timeout = edge.Value.ResponseHeadersTimeout };
            }

            // YARP's activity timer also runs while it waits for the headers, so a longer bound would never be reached.
            var activityTimeout = cluster?.HttpRequest?.ActivityTimeout ?? DefaultActivityTimeout;
            if (route.Timeout > activityTimeout)
            {
                throw new InvalidOperationException(
                    $"Route '{route.RouteId}' waits {route.Timeout} for response headers, longer than its cluster's HttpRequest:ActivityTimeout ({activityTimeout}).");
            }

            return ValueTask.FromResult(route);
        }
    }
}
