using System.Net;
using System.Net.Sockets;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

/// <summary>A service that accepts the connection but never answers must not hold the client hostage.</summary>
[Collection(GatewayCollection.Name)]
public sealed class StalledServiceTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_service_that_sends_no_response_headers_in_time_is_a_504_problem_with_retry_after()
    {
        using var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start();
        var held = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                held.Add(await blackHole.AcceptSocketAsync());
            }
        });
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:conversation:Destinations:primary:Address"] = $"http://127.0.0.1:{((IPEndPoint)blackHole.LocalEndpoint).Port}/",
            ["ReverseProxy:Clusters:conversation:HttpRequest:ActivityTimeout"] = "00:00:01",
        });
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        client.Timeout = TimeSpan.FromSeconds(30);

        using var response = await client.GetAsync("/sessions");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("2", response.Headers.RetryAfter?.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("conversation", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
