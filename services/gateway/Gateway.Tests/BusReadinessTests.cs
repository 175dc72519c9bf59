using System.Net;
using System.Text.Json;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

/// <summary>The edge routes without the bus, so its readiness never waits for it; the bus shows in the details.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BusReadinessTests(GatewayFixture fixture)
{
    [Fact]
    public async Task An_edge_without_its_bus_is_ready_degraded_names_the_bus_and_routes()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["RabbitMq:Port"] = new Uri(GatewayFixture.ClosedPortAddress()).Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var client = gateway.CreateClient();

        using var ready = await client.GetAsync("/health/ready");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("degraded", json.RootElement.GetProperty("status").GetString());
        foreach (var service in GatewayFixture.Clusters.Append("gateway"))
        {
            Assert.Equal("ok", json.RootElement.GetProperty("services").GetProperty(service).GetString());
        }

        Assert.NotEqual("ok", json.RootElement.GetProperty("bus").GetProperty("gateway").GetString());

        var key = fixture.Backend.AddKey();
        using var routed = await fixture.ClientWithKey(key.ApiKey, gateway).GetAsync("/agents");
        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
    }

    [Fact]
    public async Task A_connected_edge_reports_its_bus_ok()
    {
        using var ready = await fixture.Gateway.CreateClient().GetAsync("/health/ready");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("ok", json.RootElement.GetProperty("bus").GetProperty("gateway").GetString());
    }
}
