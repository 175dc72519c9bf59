using System.Net;
using System.Net.Http.Json;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class LimitTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_tenant_over_its_rate_is_429_with_retry_after_while_another_tenant_is_served()
    {
        // Three tokens and no refill within the test: the fourth request is over the limit, deterministically.
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["Edge:RateLimit:TokenLimit"] = "3",
            ["Edge:RateLimit:TokensPerPeriod"] = "1",
            ["Edge:RateLimit:ReplenishmentPeriod"] = "01:00:00",
        });
        var busy = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        for (var i = 0; i < 3; i++)
        {
            using var allowed = await busy.GetAsync("/agents");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await busy.GetAsync("/agents");
        await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter >= TimeSpan.FromSeconds(1), $"Retry-After {retryAfter}");

        using var other = await fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway).GetAsync("/agents");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task The_admin_route_is_limited_per_client_address()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["Edge:RateLimit:TokenLimit"] = "2",
            ["Edge:RateLimit:TokensPerPeriod"] = "1",
            ["Edge:RateLimit:ReplenishmentPeriod"] = "01:00:00",
        });
        var admin = gateway.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", GatewayFixture.AdminKey);
        for (var i = 0; i < 2; i++)
        {
            using var allowed = await admin.PostAsJsonAsync("/tenants", new { name = "Acme" });
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await admin.PostAsJsonAsync("/tenants", new { name = "Acme" });
        await ProblemAssert.IsProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    [Fact]
    public async Task An_oversized_json_body_is_413_problem_and_never_forwarded()
    {
        var key = fixture.Backend.AddKey();
        var forwardedBefore = fixture.Backend.Received.Count;
        using var content = new ByteArrayContent(new byte[(1024 * 1024) + 1]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await fixture.ClientWithKey(key.ApiKey).PostAsync("/agents", content);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(forwardedBefore, fixture.Backend.Received.Count);
    }

    [Fact]
    public async Task Voice_accepts_bodies_over_the_json_limit_up_to_its_own()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        var session = Guid.NewGuid();

        using var audio = new ByteArrayContent(new byte[2 * 1024 * 1024]);
        audio.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("audio/wav");
        using var accepted = await client.PostAsync($"/sessions/{session}/voice", audio);
        var echo = await GatewayFixture.ReadEchoAsync(accepted);
        Assert.Equal(2 * 1024 * 1024, echo.BodyLength);

        using var tooLarge = new ByteArrayContent(new byte[11 * 1024 * 1024]);
        tooLarge.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("audio/wav");
        using var refused = await client.PostAsync($"/sessions/{session}/voice", tooLarge);
        await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/responses")]
    [InlineData("/v1/messages")]
    public async Task Agent_api_routes_accept_conversations_up_to_four_mebibytes(string path)
    {
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey);
        using var largest = new ByteArrayContent(new byte[4 * 1024 * 1024]);
        largest.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var accepted = await client.PostAsync(path, largest);
        Assert.Equal(4 * 1024 * 1024, (await GatewayFixture.ReadEchoAsync(accepted)).BodyLength);

        using var tooLarge = new ByteArrayContent(new byte[(4 * 1024 * 1024) + 1]);
        tooLarge.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var refused = await client.PostAsync(path, tooLarge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
    }
}
