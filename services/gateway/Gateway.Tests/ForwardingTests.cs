using System.Net;
using StitchFin.Gateway.Tests.Infrastructure;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ForwardingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Client_identity_headers_are_removed_and_the_verified_tenant_is_signed()
    {
        var key = fixture.Backend.AddKey();
        var forger = Guid.NewGuid();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/agents/" + Guid.NewGuid());
        request.Headers.Add("X-API-Key", key.ApiKey);
        request.Headers.Add("X-Tenant-Id", forger.ToString());
        request.Headers.Add("X-StitchFin-Identity", fixture.Signer.Sign(IdentityKind.Admin, forger, "forged", new InternalCall("conversation", "GET", "/agents")));
        request.Headers.Add("X-StitchFin-Tenant", forger.ToString());
        request.Headers.Add("X-Admin-Key", GatewayFixture.AdminKey);
        request.Headers.Add("X-Custom-Header", "kept");

        using var response = await fixture.Gateway.CreateClient().SendAsync(request);
        var echo = await GatewayFixture.ReadEchoAsync(response);

        foreach (var removed in new[] { "X-API-Key", "X-Tenant-Id", "X-StitchFin-Tenant", "X-Admin-Key", "Authorization" })
        {
            Assert.False(echo.Headers.ContainsKey(removed), $"{removed} was forwarded");
        }

        Assert.Equal("kept", echo.Headers["X-Custom-Header"]);
        Assert.True(fixture.TryVerifyForwarded(echo, out var identity, out var failure), failure);
        Assert.Equal(IdentityKind.Tenant, identity!.Kind);
        Assert.Equal(key.TenantId, identity.TenantId);
    }

    [Fact]
    public async Task A_safe_client_request_id_is_forwarded_signed_and_returned()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        client.DefaultRequestHeaders.Add("X-Request-Id", "client-req-42");
        using var response = await client.GetAsync("/sessions");
        var echo = await GatewayFixture.ReadEchoAsync(response);

        Assert.Equal("client-req-42", echo.Headers["X-Request-Id"]);
        Assert.True(fixture.TryVerifyForwarded(echo, out var identity, out _));
        Assert.Equal("client-req-42", identity!.RequestId);
        Assert.Equal("client-req-42", Assert.Single(response.Headers.GetValues("X-Request-Id")));
    }

    [Fact]
    public async Task An_unsafe_request_id_is_replaced_with_a_new_one()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Request-Id", "not safe; id=" + new string('x', 80));
        using var response = await client.GetAsync("/sessions");
        var echo = await GatewayFixture.ReadEchoAsync(response);

        var returned = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Matches("^[0-9a-f]{32}$", returned);
        Assert.Equal(returned, echo.Headers["X-Request-Id"]);
    }

    [Fact]
    public async Task Errors_written_by_the_edge_carry_the_request_id()
    {
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Add("X-Request-Id", "unauth-req-1");
        using var response = await client.GetAsync("/agents");
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("unauth-req-1", Assert.Single(response.Headers.GetValues("X-Request-Id")));
        Assert.Equal("unauth-req-1", problem.GetProperty("requestId").GetString());
    }

    [Fact]
    public async Task The_trace_continues_to_the_backend()
    {
        var key = fixture.Backend.AddKey();
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        var client = fixture.ClientWithKey(key.ApiKey);
        client.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        using var response = await client.GetAsync("/usage");
        var echo = await GatewayFixture.ReadEchoAsync(response);

        var forwarded = echo.Headers["traceparent"].Split('-');
        Assert.Equal(traceId, forwarded[1]);
        Assert.NotEqual("00f067aa0ba902b7", forwarded[2]);
    }

    [Theory]
    [InlineData("GET", "/tenants/me")]
    [InlineData("GET", "/keys")]
    [InlineData("POST", "/keys")]
    [InlineData("DELETE", "/keys/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11")]
    [InlineData("GET", "/agents")]
    [InlineData("POST", "/agents")]
    [InlineData("GET", "/agents/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11")]
    [InlineData("PUT", "/agents/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11")]
    [InlineData("DELETE", "/agents/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11")]
    [InlineData("GET", "/sessions?agentId=7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11&limit=50")]
    [InlineData("POST", "/sessions")]
    [InlineData("GET", "/sessions/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11")]
    [InlineData("GET", "/sessions/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11/transcript")]
    [InlineData("POST", "/sessions/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11/messages")]
    [InlineData("POST", "/sessions/7d1a0c9e-52a4-4a55-9d0c-2f1b0a8b6d11/voice")]
    [InlineData("GET", "/usage?from=2026-01-01&to=2026-01-31")]
    [InlineData("GET", "/providers")]
    [InlineData("POST", "/v1/chat/completions")]
    [InlineData("GET", "/v1/models")]
    [InlineData("GET", "/v1/models/support-bot")]
    [InlineData("POST", "/v1/messages")]
    [InlineData("POST", "/v1/responses")]
    [InlineData("GET", "/v1/responses/resp_0193a1b2000070008000000000000001")]
    [InlineData("DELETE", "/v1/responses/resp_0193a1b2000070008000000000000001")]
    [InlineData("GET", "/v1/responses/resp_0193a1b2000070008000000000000001/input_items")]
    public async Task Every_public_route_is_forwarded_with_a_tenant_identity(string method, string pathAndQuery)
    {
        var key = fixture.Backend.AddKey();
        using var request = new HttpRequestMessage(new HttpMethod(method), pathAndQuery);
        if (method is "POST" or "PUT")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await fixture.ClientWithKey(key.ApiKey).SendAsync(request);
        var echo = await GatewayFixture.ReadEchoAsync(response);

        Assert.Equal(method, echo.Method);
        Assert.Equal(pathAndQuery.Split('?')[0], echo.Path);
        Assert.True(fixture.TryVerifyForwarded(echo, out var identity, out _));
        Assert.Equal(key.TenantId, identity!.TenantId);
    }
}
