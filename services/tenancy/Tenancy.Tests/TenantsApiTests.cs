using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Tenancy.Tests.Support;

namespace StitchFin.Tenancy.Tests;

[Collection(TenancyCollection.Name)]
public sealed class TenantsApiTests(TenancyFixture fixture)
{
    [Theory]
    [InlineData(IdentityKind.Tenant)]
    [InlineData(IdentityKind.Service)]
    public async Task Only_the_admin_identity_creates_tenants(IdentityKind kind)
    {
        using var response = await fixture.Factory.CreateClientFor(Guid.NewGuid(), kind).PostAsJsonAsync("/tenants", new { name = "Intruder" });

        await Json.AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Unsigned_tenant_creation_is_401()
    {
        using var response = await fixture.Factory.CreateClient().PostAsJsonAsync("/tenants", new { name = "Anonymous" });

        await Json.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Admin_creates_a_tenant_whose_default_key_verifies()
    {
        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        using var response = await fixture.Admin.PostAsJsonAsync("/tenants", new { name = "  Acme  " });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/tenants/me", response.Headers.Location?.OriginalString);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["apiKey", "createdAt", "id", "name"], Json.PropertyNames(body));
        Assert.Equal("Acme", body.GetProperty("name").GetString());
        Assert.Equal(fixture.Time.GetUtcNow(), Json.UtcTime(body.GetProperty("createdAt")));
        var tenantId = body.GetProperty("id").GetGuid();
        var apiKey = body.GetProperty("apiKey").GetString()!;
        Assert.StartsWith("sfk_", apiKey, StringComparison.Ordinal);

        using var verified = await fixture.VerifyAsync(apiKey);
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        var identity = JsonDocument.Parse(await verified.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(tenantId, identity.GetProperty("tenantId").GetGuid());

        var keys = await fixture.ListKeysAsync(fixture.ClientFor(tenantId));
        var only = Assert.Single(keys);
        Assert.Equal("default", only.GetProperty("name").GetString());
        Assert.Equal(identity.GetProperty("keyId").GetGuid(), only.GetProperty("id").GetGuid());
        Assert.Equal(apiKey[..16], only.GetProperty("prefix").GetString());
    }

    [Fact]
    public async Task Me_answers_the_calling_tenant()
    {
        var tenant = await fixture.CreateTenantAsync("Globex");

        using var response = await tenant.Client.GetAsync("/tenants/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["createdAt", "id", "name"], Json.PropertyNames(body));
        Assert.Equal(tenant.Id, body.GetProperty("id").GetGuid());
        Assert.Equal("Globex", body.GetProperty("name").GetString());
        Assert.Equal(fixture.Time.GetUtcNow(), Json.UtcTime(body.GetProperty("createdAt")));
    }

    [Fact]
    public async Task Me_for_a_tenant_that_does_not_exist_is_404_problem()
    {
        using var response = await fixture.ClientFor(Guid.NewGuid()).GetAsync("/tenants/me");

        await Json.AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"name":null}""")]
    [InlineData("""{"name":""}""")]
    [InlineData("""{"name":"   "}""")]
    public async Task Invalid_tenant_names_are_400_with_a_name_error(string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await fixture.Admin.PostAsync("/tenants", content);

        await Json.AssertValidationProblemAsync(response, "name");
    }

    [Fact]
    public async Task Tenant_name_longer_than_100_characters_is_400()
    {
        using var response = await fixture.Admin.PostAsJsonAsync("/tenants", new { name = new string('n', 101) });

        await Json.AssertValidationProblemAsync(response, "name");
    }

    [Theory]
    [InlineData("""{"name":""")]
    [InlineData("""{"name":42}""")]
    [InlineData("""[]""")]
    public async Task Unreadable_body_is_400_problem(string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await fixture.Admin.PostAsync("/tenants", content);

        await Json.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }
}
