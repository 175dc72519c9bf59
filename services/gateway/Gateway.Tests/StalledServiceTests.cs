using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StitchFin.Gateway.Proxy;
using StitchFin.Gateway.Tests.Infrastructure;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace StitchFin.Gateway.Tests;

/// <summary>
/// A service that accepts the connection but never answers must not hold the client hostage: each route bounds its
/// own wait for the response headers, and a reply that began in time is never cut for taking longer.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class StalledServiceTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Each_route_waits_its_own_bound_for_response_headers_then_answers_504_with_retry_after()
    {
        using var blackHole = BlackHole.Start();
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:conversation:Destinations:primary:Address"] = blackHole.Address,
            // Far beyond both bounds: only the routes' own bounds may end these waits.
            ["ReverseProxy:Clusters:conversation:HttpRequest:ActivityTimeout"] = "00:10:00",
            // GET /sessions has no bound of its own, so it takes the edge's default.
            ["Edge:ResponseHeadersTimeout"] = "00:00:01",
            ["ReverseProxy:Routes:openai-chat-completions:Timeout"] = "00:00:10",
        });
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        client.Timeout = TimeSpan.FromMinutes(2);

        var completion = client.PostAsync("/v1/chat/completions",
            new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        await blackHole.WaitForConnectionsAsync(1);
        using var sessions = await client.GetAsync("/sessions");

        var problem = await ProblemAssert.IsProblemAsync(sessions, HttpStatusCode.GatewayTimeout);
        Assert.Equal("2", sessions.Headers.RetryAfter?.ToString());
        Assert.Equal("The conversation service did not answer within 1 s.", problem.GetProperty("detail").GetString());
        Assert.Equal(ProxyErrorProblems.GatewayTimeout, problem.GetProperty("type").GetString());
        Assert.False(completion.IsCompleted, "the chat completion route's own bound ended with the default one");

        using var completed = await completion;
        var body = await completed.Content.ReadAsStringAsync();
        Assert.True(completed.StatusCode == HttpStatusCode.GatewayTimeout, $"{completed.StatusCode}: {body}");
        Assert.Equal("2", completed.Headers.RetryAfter?.ToString());
        using var error = JsonDocument.Parse(body);
        Assert.Equal("gateway_timeout", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("The conversation service did not answer within 10 s.", error.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_streamed_reply_whose_headers_came_in_time_is_delivered_whole_however_long_its_body_takes()
    {
        await using var backend = await HeldStreamBackend.StartAsync();
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:conversation:Destinations:primary:Address"] = backend.Address,
            ["ReverseProxy:Routes:sessions-messages:Timeout"] = "00:00:01",
        });
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        client.Timeout = TimeSpan.FromMinutes(2);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{Guid.NewGuid()}/messages")
        {
            Content = new StringContent("""{"content":"hi"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        // The route's bound started before the headers could arrive, so from here on it has surely run out.
        var sinceHeaders = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(HeldStreamBackend.FirstEvent, await reader.ReadLineAsync());
        var bodyWait = TimeSpan.FromSeconds(3) - sinceHeaders.Elapsed;
        if (bodyWait > TimeSpan.Zero)
        {
            await Task.Delay(bodyWait);
        }

        backend.Release();

        Assert.Equal("\n" + HeldStreamBackend.Rest, await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task A_route_without_a_bound_takes_the_default_and_one_its_cluster_would_cut_first_is_refused()
    {
        var routes = new ResponseHeadersTimeouts.RouteTimeouts(Options.Create(new EdgeOptions { ResponseHeadersTimeout = TimeSpan.FromSeconds(15) }));
        var cluster = new ClusterConfig { ClusterId = "c", HttpRequest = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(60) } };

        var plain = await routes.ConfigureRouteAsync(new RouteConfig { RouteId = "plain", ClusterId = "c" }, cluster, default);
        var reply = await routes.ConfigureRouteAsync(new RouteConfig { RouteId = "reply", ClusterId = "c", Timeout = TimeSpan.FromSeconds(60) }, cluster, default);
        var disabled = await routes.ConfigureRouteAsync(new RouteConfig { RouteId = "off", ClusterId = "c", TimeoutPolicy = "Disable" }, cluster, default);

        Assert.Equal(TimeSpan.FromSeconds(15), plain.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(60), reply.Timeout);
        Assert.Null(disabled.Timeout);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => routes.ConfigureRouteAsync(
            new RouteConfig { RouteId = "too-long", ClusterId = "c", Timeout = TimeSpan.FromSeconds(61) }, cluster, default).AsTask());
        Assert.Contains("too-long", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Accepts connections and never answers on them.</summary>
    private sealed class BlackHole : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _held = [];

        public string Address => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

        public static BlackHole Start()
        {
            var blackHole = new BlackHole();
            blackHole._listener.Start();
            _ = blackHole.AcceptAsync();
            return blackHole;
        }

        public async Task WaitForConnectionsAsync(int count)
        {
            var waited = Stopwatch.StartNew();
            while (Held() < count)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"The edge opened {Held()} of {count} connections.");
                await Task.Delay(10);
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            lock (_held)
            {
                _held.ForEach(socket => socket.Dispose());
            }
        }

        private int Held()
        {
            lock (_held)
            {
                return _held.Count;
            }
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync();
                    lock (_held)
                    {
                        _held.Add(socket);
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
