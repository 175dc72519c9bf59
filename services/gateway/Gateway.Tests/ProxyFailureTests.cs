using System.Net;
using System.Text;
using System.Text.Json;
using StitchFin.Gateway.Proxy;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

/// <summary>
/// The edge failing to reach a service is never the 502 that means "both providers failed, nothing charged": a
/// request that was never sent is a 503 of the edge's own type, and one whose connection failed after it was sent is
/// a 504 that says it may have been carried out, in problem+json and in the agent APIs' shapes alike.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ProxyFailureTests(GatewayFixture fixture)
{
    private const string Completion = """{"model":"m","messages":[{"role":"user","content":"hi"}]}""";
    private const string AnthropicMessage = """{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task A_refused_connection_is_503_service_unreachable_with_retry_after_never_502()
    {
        // Without health checks the edge still believes in the destination, so each request meets the refusal itself.
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:conversation:Destinations:primary:Address"] = GatewayFixture.ClosedPortAddress(),
            ["ReverseProxy:Clusters:conversation:HealthCheck:Active:Enabled"] = "false",
        });
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        client.Timeout = TimeSpan.FromSeconds(30);

        using var message = await SendMessageAsync(client);
        var problem = await ProblemAssert.IsProblemAsync(message, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("5", message.Headers.RetryAfter?.ToString());
        Assert.Equal(ProxyErrorProblems.ServiceUnreachable, problem.GetProperty("type").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("conversation", detail, StringComparison.Ordinal);
        Assert.Contains("nothing was charged", detail, StringComparison.Ordinal);

        using var completion = await client.PostAsync("/v1/chat/completions", Json(Completion));
        var error = await AssertOpenAiErrorAsync(completion, HttpStatusCode.ServiceUnavailable, "service_unreachable");
        Assert.Equal("5", completion.Headers.RetryAfter?.ToString());
        Assert.Contains("nothing was charged", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        using var anthropic = await client.PostAsync("/v1/messages", Json(AnthropicMessage));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, anthropic.StatusCode);
        Assert.Equal("5", anthropic.Headers.RetryAfter?.ToString());
        using var anthropicError = JsonDocument.Parse(await anthropic.Content.ReadAsStringAsync());
        Assert.Equal("overloaded_error", anthropicError.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_connection_reset_after_the_request_was_sent_is_504_service_connection_lost_never_502()
    {
        using var backend = ResettingBackend.Start();
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:conversation:Destinations:primary:Address"] = backend.Address,
            // Its probes are reset too; only the requests themselves may meet the resets here.
            ["ReverseProxy:Clusters:conversation:HealthCheck:Active:Enabled"] = "false",
        });
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        client.Timeout = TimeSpan.FromSeconds(30);

        using var message = await SendMessageAsync(client);
        var problem = await ProblemAssert.IsProblemAsync(message, HttpStatusCode.GatewayTimeout);
        Assert.Equal(1, backend.Received);
        Assert.Equal("2", message.Headers.RetryAfter?.ToString());
        Assert.Equal(ProxyErrorProblems.ServiceConnectionLost, problem.GetProperty("type").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("conversation", detail, StringComparison.Ordinal);
        Assert.Contains("may have been carried out", detail, StringComparison.Ordinal);
        Assert.Contains("same Idempotency-Key", detail, StringComparison.Ordinal);

        using var completion = await client.PostAsync("/v1/chat/completions", Json(Completion));
        var error = await AssertOpenAiErrorAsync(completion, HttpStatusCode.GatewayTimeout, "service_connection_lost");
        Assert.Equal(2, backend.Received);
        Assert.Equal("2", completion.Headers.RetryAfter?.ToString());
        Assert.Contains("same Idempotency-Key", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_its_health_checks_found_down_is_503_service_unreachable()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:metering:Destinations:primary:Address"] = GatewayFixture.ClosedPortAddress(),
            ["ReverseProxy:Clusters:metering:HealthCheck:Active:Interval"] = "00:00:00.200",
        });
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!gateway.Logs.Entries.Any(e => e.Contains("cluster `metering` is set to 'Unhealthy'", StringComparison.Ordinal)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the health checks never took the destination out");
            await Task.Delay(50);
        }

        using var usage = await client.GetAsync("/usage?from=2026-01-01&to=2026-01-02");

        var problem = await ProblemAssert.IsProblemAsync(usage, HttpStatusCode.ServiceUnavailable);
        Assert.Equal(ProxyErrorProblems.ServiceUnreachable, problem.GetProperty("type").GetString());
        Assert.Equal("5", usage.Headers.RetryAfter?.ToString());
        Assert.Contains("metering", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> SendMessageAsync(HttpClient client)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{Guid.NewGuid()}/messages") { Content = Json("""{"content":"hi"}""") };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return client.SendAsync(request);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> AssertOpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        var error = json.RootElement.GetProperty("error").Clone();
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        return error;
    }
}
