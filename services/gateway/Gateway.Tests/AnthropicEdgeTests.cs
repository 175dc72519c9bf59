using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

/// <summary>
/// Anthropic's Messages API at the edge: <c>x-api-key</c> (as Anthropic's SDKs and Claude Code send it) or a Bearer key,
/// forwarded with the tenant's identity, and every error the edge writes under <c>/v1/messages</c> in Anthropic's shape.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class AnthropicEdgeTests(GatewayFixture fixture)
{
    private const string Message = """{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""";

    [Theory]
    [InlineData("x-api-key")]
    [InlineData("Authorization")]
    public async Task A_message_reaches_conversation_with_the_signed_identity_and_without_the_key(string header)
    {
        var key = fixture.Backend.AddKey();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = Json(Message) };
        request.Headers.TryAddWithoutValidation(header, header == "Authorization" ? $"Bearer {key.ApiKey}" : key.ApiKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "tools-2024-04-04");

        using var response = await fixture.Gateway.CreateClient().SendAsync(request);
        var echo = await GatewayFixture.ReadEchoAsync(response);

        Assert.Equal(("POST", "/v1/messages"), (echo.Method, echo.Path));
        Assert.False(echo.Headers.ContainsKey("x-api-key"), "the key was forwarded");
        Assert.False(echo.Headers.ContainsKey("Authorization"), "the key was forwarded");
        Assert.Equal("2023-06-01", echo.Headers["anthropic-version"]);
        Assert.Equal("tools-2024-04-04", echo.Headers["anthropic-beta"]);
        Assert.True(fixture.TryVerifyForwarded(echo, out var identity, out var failure), failure);
        Assert.Equal(key.TenantId, identity!.TenantId);
    }

    [Fact]
    public async Task A_missing_or_unknown_key_is_401_authentication_error_and_never_forwarded()
    {
        var forwardedBefore = fixture.Backend.ReceivedFor("/v1/messages").Count;
        var anonymous = fixture.Gateway.CreateClient();
        var unknown = fixture.Gateway.CreateClient();
        unknown.DefaultRequestHeaders.Add("x-api-key", "sk-ant-unknown-" + Guid.NewGuid().ToString("N"));

        foreach (var client in new[] { anonymous, unknown })
        {
            using var response = await client.PostAsync("/v1/messages", Json(Message));
            await AssertAnthropicErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
        }

        Assert.Equal(forwardedBefore, fixture.Backend.ReceivedFor("/v1/messages").Count);
    }

    [Fact]
    public async Task Tenancy_failing_is_503_overloaded_error_with_retry_after()
    {
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Add("x-api-key", FakeBackend.FailingKey);

        using var response = await client.PostAsync("/v1/messages", Json(Message));

        await AssertAnthropicErrorAsync(response, HttpStatusCode.ServiceUnavailable, "overloaded_error");
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_tenant_over_its_rate_is_429_rate_limit_error_with_retry_after()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["Edge:RateLimit:TokenLimit"] = "1",
            ["Edge:RateLimit:TokensPerPeriod"] = "1",
            ["Edge:RateLimit:ReplenishmentPeriod"] = "01:00:00",
        });
        var client = gateway.CreateClient();
        client.DefaultRequestHeaders.Add("x-api-key", fixture.Backend.AddKey().ApiKey);
        using (var allowed = await client.PostAsync("/v1/messages", Json(Message)))
        {
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        using var limited = await client.PostAsync("/v1/messages", Json(Message));

        var error = await AssertAnthropicErrorAsync(limited, HttpStatusCode.TooManyRequests, "rate_limit_error");
        Assert.Contains("retry after", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After {limited.Headers.RetryAfter}");
    }

    [Theory]
    [InlineData("POST", "/v1/messages/count_tokens", HttpStatusCode.NotFound, "not_found_error")]
    [InlineData("POST", "/v1/messages/batches", HttpStatusCode.NotFound, "not_found_error")]
    [InlineData("GET", "/v1/messages", HttpStatusCode.MethodNotAllowed, "invalid_request_error")]
    public async Task Paths_and_methods_the_edge_does_not_route_under_v1_messages_answer_in_anthropics_shape(
        string method, string path, HttpStatusCode status, string type)
    {
        var forwardedBefore = fixture.Backend.Received.Count;
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = Json(Message);
        }

        using var response = await fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey).SendAsync(request);

        await AssertAnthropicErrorAsync(response, status, type);
        Assert.Equal(forwardedBefore, fixture.Backend.Received.Count);
    }

    [Fact]
    public async Task A_long_conversation_is_forwarded_and_a_body_over_the_agent_routes_limit_is_413_request_too_large()
    {
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey);

        // Coding agents send conversations of several hundred kilobytes: past the 1 MiB other JSON routes accept.
        using var longConversation = new ByteArrayContent(new byte[2 * 1024 * 1024]);
        longConversation.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var accepted = await client.PostAsync("/v1/messages", longConversation);
        Assert.Equal(2 * 1024 * 1024, (await GatewayFixture.ReadEchoAsync(accepted)).BodyLength);

        var forwardedBefore = fixture.Backend.Received.Count;
        using var content = new ByteArrayContent(new byte[(4 * 1024 * 1024) + 1]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync("/v1/messages", content);

        await AssertAnthropicErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Equal(forwardedBefore, fixture.Backend.Received.Count);
    }

    [Fact]
    public async Task Conversation_being_down_is_a_prompt_503_in_anthropics_shape_while_other_v1_routes_keep_openais()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:conversation:Destinations:primary:Address"] = GatewayFixture.ClosedPortAddress(),
        });
        var client = fixture.ClientWithKey(fixture.Backend.AddKey().ApiKey, gateway);
        client.Timeout = TimeSpan.FromSeconds(20);

        using var message = await client.PostAsync("/v1/messages", Json(Message));
        using var completion = await client.PostAsync("/v1/chat/completions", Json("""{"model":"m","messages":[{"role":"user","content":"hi"}]}"""));

        var error = await AssertAnthropicErrorAsync(message, HttpStatusCode.ServiceUnavailable, "overloaded_error");
        Assert.Contains("conversation", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.NotNull(message.Headers.RetryAfter);
        var body = await completion.Content.ReadAsStringAsync();
        Assert.True(completion.StatusCode == HttpStatusCode.ServiceUnavailable, body);
        using var openAi = JsonDocument.Parse(body);
        Assert.Equal("server_error", openAi.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("service_unreachable", openAi.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> AssertAnthropicErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(["type", "error"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
        var error = json.RootElement.GetProperty("error").Clone();
        Assert.Equal(["type", "message"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return error;
    }
}
