using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class LoggingTests(GatewayFixture fixture)
{
    [Fact]
    public async Task No_log_entry_ever_contains_an_api_key_or_the_admin_key()
    {
        var valid = fixture.Backend.AddKey();
        var bearer = fixture.Backend.AddKey();
        var revoked = fixture.Backend.AddKey();
        fixture.Backend.Revoke(revoked);
        var unknown = "sk_test_never_issued_" + Guid.NewGuid().ToString("N");
        var wrongAdmin = "wrong-admin-" + Guid.NewGuid().ToString("N");

        using (var response = await fixture.ClientWithKey(valid.ApiKey).GetAsync("/agents?trace=logging-test"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var bearerClient = fixture.Gateway.CreateClient();
        bearerClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer.ApiKey);
        (await bearerClient.GetAsync("/sessions")).Dispose();
        (await fixture.ClientWithKey(revoked.ApiKey).GetAsync("/agents")).Dispose();
        (await fixture.ClientWithKey(unknown).GetAsync("/agents")).Dispose();
        (await fixture.ClientWithKey(FakeBackend.FailingKey).GetAsync("/agents")).Dispose();
        (await fixture.ClientWithKey(valid.ApiKey).GetAsync("/internal/keys/verify")).Dispose();
        foreach (var adminKey in new[] { GatewayFixture.AdminKey, wrongAdmin })
        {
            var admin = fixture.Gateway.CreateClient();
            admin.DefaultRequestHeaders.Add("X-Admin-Key", adminKey);
            (await admin.PostAsJsonAsync("/tenants", new { name = "Logged" })).Dispose();
        }

        var entries = fixture.Gateway.Logs.Entries.ToArray();
        // The capture sees these requests (so an absent key is not an absent log).
        Assert.Contains(entries, entry => entry.Contains("logging-test", StringComparison.Ordinal));
        Assert.Contains(entries, entry => entry.Contains("not authenticated", StringComparison.Ordinal));
        foreach (var secret in new[] { valid.ApiKey, bearer.ApiKey, revoked.ApiKey, unknown, FakeBackend.FailingKey, GatewayFixture.AdminKey, wrongAdmin })
        {
            Assert.DoesNotContain(entries, entry => entry.Contains(secret, StringComparison.Ordinal));
        }
    }
}
