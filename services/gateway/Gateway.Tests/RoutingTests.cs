using System.Net;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class RoutingTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("POST", "/internal/keys/verify")]
    [InlineData("GET", "/internal/keys/verify")]
    [InlineData("POST", "/internal/messages")]
    [InlineData("GET", "/vendors/vendor-a/v1/chat/completions")]
    [InlineData("POST", "/vendors/vendor-b/v1/chat/completions")]
    [InlineData("GET", "/nothing-here")]
    [InlineData("GET", "/agents/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11/unknown")]
    public async Task Internal_and_unknown_paths_are_404_problem_even_with_a_valid_key(string method, string path)
    {
        var key = fixture.Backend.AddKey();
        var forwardedBefore = fixture.Backend.Received.Count;
        var verifyBefore = fixture.Backend.VerifyCalls(key.ApiKey);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent($$"""{"apiKey":"{{key.ApiKey}}"}""", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await fixture.ClientWithKey(key.ApiKey).SendAsync(request);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal(forwardedBefore, fixture.Backend.Received.Count);
        Assert.Equal(verifyBefore, fixture.Backend.VerifyCalls(key.ApiKey));
    }

    [Fact]
    public async Task A_method_the_contract_does_not_have_is_405_problem()
    {
        var key = fixture.Backend.AddKey();
        using var response = await fixture.ClientWithKey(key.ApiKey).DeleteAsync("/usage");
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Cors_preflight_from_an_allowed_origin_is_answered_without_a_key()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/agents");
        preflight.Headers.Add("Origin", GatewayFixture.AllowedOrigin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key, content-type, idempotency-key");
        using var response = await fixture.Gateway.CreateClient().SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(GatewayFixture.AllowedOrigin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Fact]
    public async Task Cors_responses_expose_the_contract_headers_to_allowed_origins_only()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        client.DefaultRequestHeaders.Add("Origin", GatewayFixture.AllowedOrigin);
        using var allowed = await client.GetAsync("/agents");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        var exposed = string.Join(",", allowed.Headers.GetValues("Access-Control-Expose-Headers"));
        foreach (var header in new[] { "Retry-After", "Idempotent-Replayed", "X-Transcript", "X-Reply-Text", "X-Session-Message-Id", "X-Request-Id" })
        {
            Assert.Contains(header, exposed, StringComparison.OrdinalIgnoreCase);
        }

        var stranger = fixture.ClientWithKey(key.ApiKey);
        stranger.DefaultRequestHeaders.Add("Origin", "http://evil.test");
        using var refused = await stranger.GetAsync("/agents");
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
