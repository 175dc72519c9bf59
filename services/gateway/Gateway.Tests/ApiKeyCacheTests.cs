using System.Net;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ApiKeyCacheTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Many_requests_with_one_key_verify_it_once()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync("/agents");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, fixture.Backend.VerifyCalls(key.ApiKey));
    }

    [Fact]
    public async Task A_key_is_verified_again_once_its_cache_entry_expires()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        (await client.GetAsync("/agents")).Dispose();
        await fixture.AdvanceWithBusUpAsync(TimeSpan.FromSeconds(59));
        (await client.GetAsync("/agents")).Dispose();
        Assert.Equal(1, fixture.Backend.VerifyCalls(key.ApiKey));

        await fixture.AdvanceWithBusUpAsync(TimeSpan.FromSeconds(2));
        using var response = await client.GetAsync("/agents");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, fixture.Backend.VerifyCalls(key.ApiKey));
    }

    [Fact]
    public async Task Concurrent_misses_for_one_key_share_one_tenancy_call()
    {
        var key = fixture.Backend.AddKey();
        var hold = fixture.Backend.HoldVerification(key.ApiKey);
        // Every caller reaches the verifier before tenancy answers the first one.
        var verifications = Enumerable.Range(0, 20)
            .Select(i => fixture.Verifier.VerifyAsync(key.ApiKey, $"req-{i}", CancellationToken.None).AsTask())
            .ToList();
        hold.SetResult();
        var results = await Task.WhenAll(verifications);

        Assert.Equal(1, fixture.Backend.VerifyCalls(key.ApiKey));
        Assert.All(results, verified => Assert.Equal((key.TenantId, key.KeyId), (verified!.TenantId, verified.KeyId)));
    }

    [Fact]
    public async Task Unknown_keys_are_remembered_briefly()
    {
        var unknown = "sk_test_unknown_" + Guid.NewGuid().ToString("N");
        var client = fixture.ClientWithKey(unknown);
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync("/agents");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(1, fixture.Backend.VerifyCalls(unknown));
    }

    [Fact]
    public void The_cache_is_keyed_by_a_hash_of_the_key()
    {
        var key = fixture.Backend.AddKey();
        var cacheKey = StitchFin.Gateway.ApiKeys.ApiKeyVerifier.CacheKeyOf(key.ApiKey);
        Assert.Equal(64, cacheKey.Length);
        Assert.DoesNotContain(key.ApiKey, cacheKey, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key.ApiKey))), cacheKey);
    }
}
