using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class HealthTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Health_is_ok_without_a_key()
    {
        using var response = await fixture.Gateway.CreateClient().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_reports_every_service_and_the_edge_itself()
    {
        using var response = await fixture.Gateway.CreateClient().GetAsync("/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var services = json.RootElement.GetProperty("services");
        foreach (var service in GatewayFixture.Clusters.Append("gateway"))
        {
            Assert.Equal("ok", services.GetProperty(service).GetString());
        }
    }

    [Fact]
    public async Task The_edge_is_ready_without_its_broker_and_reports_its_bus_as_unavailable()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["RabbitMq:Port"] = GatewayFixture.ClosedPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        using var response = await gateway.CreateClient().GetAsync("/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("ok", json.RootElement.GetProperty("services").GetProperty("gateway").GetString());
        Assert.Equal("unavailable", json.RootElement.GetProperty("bus").GetProperty("gateway").GetString());
        Assert.Equal("degraded", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_service_that_is_down_makes_ready_503_naming_it_and_its_routes_a_prompt_503_problem()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:voice:Destinations:primary:Address"] = GatewayFixture.ClosedPortAddress(),
        });
        var client = gateway.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(20);

        using var ready = await client.GetAsync("/health/ready");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, body);
        using var json = JsonDocument.Parse(body);
        var services = json.RootElement.GetProperty("services");
        Assert.Equal("unavailable", services.GetProperty("voice").GetString());
        Assert.Equal("ok", services.GetProperty("conversation").GetString());

        var key = fixture.Backend.AddKey();
        using var audio = new ByteArrayContent(new byte[64]);
        audio.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("audio/wav");
        using var voice = await fixture.ClientWithKey(key.ApiKey, gateway).PostAsync($"/sessions/{Guid.NewGuid()}/voice", audio);
        var problem = await ProblemAssert.IsProblemAsync(voice, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(StitchFin.Gateway.Proxy.ProxyErrorProblems.ServiceUnreachable, problem.GetProperty("type").GetString());
        Assert.NotNull(voice.Headers.RetryAfter);
        Assert.Contains("voice", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var text = await fixture.ClientWithKey(key.ApiKey, gateway).GetAsync("/agents");
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
    }

    [Fact]
    public async Task Readiness_is_answered_from_one_round_of_checks_until_the_cache_duration_has_passed()
    {
        await using var backend = await FakeBackend.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var overrides = new Dictionary<string, string?> { ["Edge:ReadinessCacheDuration"] = "00:00:01" };
        foreach (var cluster in GatewayFixture.Clusters)
        {
            overrides[$"ReverseProxy:Clusters:{cluster}:Destinations:primary:Address"] = backend.Address;
            // Only the readiness endpoint may ask this backend.
            overrides[$"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Enabled"] = "false";
        }

        await using var gateway = fixture.CreateGateway(overrides, services => services.AddSingleton<TimeProvider>(clock));
        var client = gateway.CreateClient();
        // Each poll moves the clock past the cached answer, until the first round of checks finds every service ready.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            using var ready = await client.GetAsync("/health/ready");
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), await ready.Content.ReadAsStringAsync());
            await Task.Delay(50);
        }

        var before = backend.ReadinessChecks;
        clock.Advance(TimeSpan.FromSeconds(1));
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await client.GetAsync("/health/ready");
            return response.StatusCode;
        }));

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(GatewayFixture.Clusters.Length, backend.ReadinessChecks - before);

        clock.Advance(TimeSpan.FromMilliseconds(999));
        (await client.GetAsync("/health/ready")).Dispose();
        Assert.Equal(GatewayFixture.Clusters.Length, backend.ReadinessChecks - before);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        (await client.GetAsync("/health/ready")).Dispose();
        Assert.Equal(2 * GatewayFixture.Clusters.Length, backend.ReadinessChecks - before);
    }
}
