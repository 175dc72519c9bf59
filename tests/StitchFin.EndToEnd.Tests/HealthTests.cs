using System.Net;
using System.Text.Json.Nodes;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class HealthTests(StitchFinSystem system)
{
    [Fact]
    public async Task Edge_health_is_ok_without_a_key()
    {
        using var client = system.CreateClient();
        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Edge_ready_aggregates_every_service()
    {
        using var client = system.CreateClient();
        using var response = await client.GetAsync("/health/ready");
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var service in new[] { "tenancy", "conversation", "providers", "voice", "metering" })
        {
            Assert.Equal("ok", body["services"]![service]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("tenancy")]
    [InlineData("conversation")]
    [InlineData("providers")]
    [InlineData("voice")]
    [InlineData("metering")]
    [InlineData("gateway")]
    public async Task Every_service_is_ready(string service)
    {
        using var http = new HttpClient { BaseAddress = system.ServiceUrl(service) };
        using var response = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
