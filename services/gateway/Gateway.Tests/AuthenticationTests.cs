using System.Net;
using System.Net.Http.Headers;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AuthenticationTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Missing_key_is_401_problem_and_never_forwarded()
    {
        var forwardedBefore = fixture.Backend.Received.Count;
        using var response = await fixture.Gateway.CreateClient().GetAsync("/agents");
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(forwardedBefore, fixture.Backend.Received.Count);
    }

    [Fact]
    public async Task Unknown_key_is_401_problem()
    {
        using var response = await fixture.ClientWithKey("sk_test_unknown_" + Guid.NewGuid().ToString("N")).GetAsync("/agents");
        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("unknown or revoked", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_revoked_in_tenancy_is_401_problem()
    {
        var key = fixture.Backend.AddKey();
        fixture.Backend.Revoke(key);
        using var response = await fixture.ClientWithKey(key.ApiKey).GetAsync("/agents");
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task X_API_Key_header_is_accepted()
    {
        var key = fixture.Backend.AddKey();
        using var response = await fixture.ClientWithKey(key.ApiKey).GetAsync("/agents");
        var echo = await GatewayFixture.ReadEchoAsync(response);
        Assert.Equal("/agents", echo.Path);
    }

    [Fact]
    public async Task Bearer_token_is_accepted_and_not_forwarded()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.ApiKey);
        using var response = await client.GetAsync("/sessions");
        var echo = await GatewayFixture.ReadEchoAsync(response);
        Assert.False(echo.Headers.ContainsKey("Authorization"));
        Assert.True(fixture.TryVerifyForwarded(echo, out var identity, out var failure), failure);
        Assert.Equal(key.TenantId, identity!.TenantId);
    }

    [Fact]
    public async Task Other_authorization_schemes_are_not_a_key()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", key.ApiKey);
        using var response = await client.GetAsync("/agents");
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Tenancy_failing_is_503_problem_not_401()
    {
        using var response = await fixture.ClientWithKey(FakeBackend.FailingKey).GetAsync("/agents");
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Verification_calls_tenancy_as_the_edge_service()
    {
        var key = fixture.Backend.AddKey();
        using var response = await fixture.ClientWithKey(key.ApiKey).GetAsync("/usage");
        await GatewayFixture.ReadEchoAsync(response);
        Assert.Contains(fixture.Backend.VerifyIdentities, header =>
            fixture.TryVerifyFor(header, "POST", "/internal/keys/verify", out var identity, out _)
            && identity!.Kind == StitchFin.ServiceDefaults.Identity.IdentityKind.Service
            && identity.TenantId == Guid.Empty);
    }
}
