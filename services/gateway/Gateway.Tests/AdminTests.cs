using System.Net;
using System.Net.Http.Json;
using StitchFin.Gateway.Tests.Infrastructure;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AdminTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Creating_a_tenant_without_the_admin_key_is_401_problem()
    {
        using var response = await fixture.Gateway.CreateClient().PostAsJsonAsync("/tenants", new { name = "Acme" });
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Creating_a_tenant_with_a_wrong_admin_key_is_401_problem()
    {
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", GatewayFixture.AdminKey + "x");
        using var response = await client.PostAsJsonAsync("/tenants", new { name = "Acme" });
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_tenant_api_key_does_not_grant_admin()
    {
        var key = fixture.Backend.AddKey();
        using var response = await fixture.ClientWithKey(key.ApiKey).PostAsJsonAsync("/tenants", new { name = "Acme" });
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_right_admin_key_forwards_with_an_admin_identity_and_without_the_key()
    {
        var client = fixture.Gateway.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", GatewayFixture.AdminKey);
        client.DefaultRequestHeaders.Add("X-Tenant-Id", Guid.NewGuid().ToString());
        using var response = await client.PostAsJsonAsync("/tenants", new { name = "Acme" });
        var echo = await GatewayFixture.ReadEchoAsync(response);

        Assert.Equal("/tenants", echo.Path);
        Assert.False(echo.Headers.ContainsKey("X-Admin-Key"));
        Assert.False(echo.Headers.ContainsKey("X-Tenant-Id"));
        Assert.True(fixture.TryVerifyForwarded(echo, out var identity, out var failure), failure);
        Assert.Equal(IdentityKind.Admin, identity!.Kind);
        Assert.Equal(Guid.Empty, identity.TenantId);
    }

    [Theory]
    [InlineData("secret", "secret", true)]
    [InlineData("secret", "secreT", false)]
    [InlineData("secret", "secret-longer", false)]
    [InlineData("", "", false)]
    [InlineData("", "anything", false)]
    public void Admin_key_comparison(string configured, string given, bool matches) =>
        Assert.Equal(matches, StitchFin.Gateway.Authentication.AdminKeyAuthenticationHandler.Matches(given, configured));
}
