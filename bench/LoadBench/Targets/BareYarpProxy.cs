using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace StitchFin.LoadBench.Targets;

/// <summary>
/// The cheapest possible YARP hop, in this process on a free loopback port: no authentication, no transforms
/// beyond YARP's defaults. It is the baseline the edge's own cost is compared with.
/// </summary>
public sealed class BareYarpProxy : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BareYarpProxy(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>Forwards <c>/internal/*</c> to providers and <c>/tenants/*</c> to tenancy.</summary>
    public static async Task<BareYarpProxy> StartAsync(Uri providers, Uri tenancy, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddReverseProxy().LoadFromMemory(
            [Route("providers", "/internal/{**rest}"), Route("tenancy", "/tenants/{**rest}")],
            [Cluster("providers", providers), Cluster("tenancy", tenancy)]);

        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync(cancellationToken);
        return new BareYarpProxy(app, new Uri(app.Urls.Single().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static RouteConfig Route(string cluster, string path) =>
        new() { RouteId = cluster, ClusterId = cluster, Match = new RouteMatch { Path = path } };

    private static ClusterConfig Cluster(string id, Uri address) => new()
    {
        ClusterId = id,
        Destinations = new Dictionary<string, DestinationConfig> { ["primary"] = new() { Address = address.ToString() } },
    };
}
