using System.Net;
using System.Net.Http.Headers;

namespace StitchFin.LoadBench.Targets;

/// <summary>HTTP clients for load: keep-alive connections, no proxy, no decompression, one pool per target.</summary>
public static class BenchHttp
{
    public static readonly MediaTypeHeaderValue Json = new("application/json");

    public static SocketsHttpHandler CreateHandler(int maxConnections) => new()
    {
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = maxConnections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        UseCookies = false,
    };

    /// <summary>A client that authenticates at the edge with a tenant's API key.</summary>
    public static HttpClient ForEdge(Uri edge, string apiKey, int maxConnections)
    {
        var client = new HttpClient(CreateHandler(maxConnections)) { BaseAddress = edge, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        return client;
    }

    /// <summary>A client that calls an internal service (or a proxy in front of one) with a freshly signed identity.</summary>
    public static HttpClient ForInternal(Uri service, SignedIdentityHandler.Factory identity, int maxConnections) =>
        new(identity(CreateHandler(maxConnections))) { BaseAddress = service, Timeout = TimeSpan.FromSeconds(60) };

    public static ByteArrayContent JsonBody(byte[] utf8Json)
    {
        var content = new ByteArrayContent(utf8Json);
        content.Headers.ContentType = Json;
        return content;
    }
}
