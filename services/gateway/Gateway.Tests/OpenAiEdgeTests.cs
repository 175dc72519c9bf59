using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

/// <summary>The OpenAI-compatible routes at the edge: Bearer keys, OpenAI-shaped edge errors, unbuffered streams.</summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenAiEdgeTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_missing_or_unknown_bearer_key_on_v1_is_401_in_openai_shape_and_never_forwarded()
    {
        var forwardedBefore = fixture.Backend.ReceivedFor("/v1").Count;
        var anonymous = fixture.Gateway.CreateClient();
        var unknown = fixture.Gateway.CreateClient();
        unknown.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_unknown_" + Guid.NewGuid().ToString("N"));

        foreach (var client in new[] { anonymous, unknown })
        {
            using var completion = await client.PostAsync("/v1/chat/completions", Json("""{"model":"m","messages":[{"role":"user","content":"hi"}]}"""));
            await AssertOpenAiErrorAsync(completion, HttpStatusCode.Unauthorized, "invalid_request_error", "invalid_api_key");
            Assert.Equal("Bearer", completion.Headers.WwwAuthenticate.Single().Scheme);
            using var models = await client.GetAsync("/v1/models");
            await AssertOpenAiErrorAsync(models, HttpStatusCode.Unauthorized, "invalid_request_error", "invalid_api_key");
        }

        Assert.Equal(forwardedBefore, fixture.Backend.ReceivedFor("/v1").Count);

        // Outside /v1 the edge still answers problem+json.
        using var agents = await anonymous.GetAsync("/agents");
        await ProblemAssert.IsProblemAsync(agents, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_tenant_over_its_rate_on_v1_is_429_in_openai_shape_with_retry_after()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["Edge:RateLimit:TokenLimit"] = "2",
            ["Edge:RateLimit:TokensPerPeriod"] = "1",
            ["Edge:RateLimit:ReplenishmentPeriod"] = "01:00:00",
        });
        var client = gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Backend.AddKey().ApiKey);
        for (var i = 0; i < 2; i++)
        {
            using var allowed = await client.GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await client.PostAsync("/v1/chat/completions", Json("""{"model":"m","messages":[{"role":"user","content":"hi"}]}"""));

        var error = await AssertOpenAiErrorAsync(limited, HttpStatusCode.TooManyRequests, "requests", "rate_limit_exceeded");
        Assert.Contains("retry after", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After {limited.Headers.RetryAfter}");
    }

    [Fact]
    public async Task V1_routes_reach_conversation_with_the_signed_identity_and_without_the_bearer_key()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.ApiKey);

        using var completion = await client.PostAsync("/v1/chat/completions", Json("""{"model":"m","messages":[{"role":"user","content":"hi"}]}"""));
        using var models = await client.GetAsync("/v1/models");
        using var model = await client.GetAsync("/v1/models/support-bot");

        foreach (var (response, path) in new[] { (completion, "/v1/chat/completions"), (models, "/v1/models"), (model, "/v1/models/support-bot") })
        {
            var echo = await GatewayFixture.ReadEchoAsync(response);
            Assert.Equal(path, echo.Path);
            Assert.False(echo.Headers.ContainsKey("Authorization"));
            Assert.True(fixture.TryVerifyForwarded(echo, out var identity, out var failure), failure);
            Assert.Equal(key.TenantId, identity!.TenantId);
        }
    }

    [Fact]
    public async Task An_unknown_v1_path_is_404_in_openai_shape()
    {
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Backend.AddKey().ApiKey);

        using var response = await client.PostAsync("/v1/embeddings", Json("""{"model":"m","input":"hi"}"""));

        await AssertOpenAiErrorAsync(response, HttpStatusCode.NotFound, "invalid_request_error", "unknown_url");
    }

    [Fact]
    public async Task Server_sent_events_pass_the_edge_one_by_one_without_buffering()
    {
        await using var upstream = await HeldStreamBackend.StartAsync();
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:conversation:Destinations:primary:Address"] = upstream.Address,
        });
        var client = gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Backend.AddKey().ApiKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("""{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"""),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Content.Headers.ContentEncoding.FirstOrDefault());
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The backend holds the rest of its stream until the first event has reached this client through the edge.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(HeldStreamBackend.FirstEvent, await reader.ReadLineAsync(timeout.Token));
        upstream.Release();
        var rest = await reader.ReadToEndAsync(timeout.Token);
        Assert.Equal("\n" + HeldStreamBackend.Rest, rest);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> AssertOpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        var error = json.RootElement.GetProperty("error").Clone();
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.False(json.RootElement.TryGetProperty("status", out _), body);
        return error;
    }
}
