using System.Diagnostics;
using System.Net;
using StitchFin.Contracts.Tenancy;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class RevocationTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_revocation_event_on_the_broker_refuses_the_cached_key_within_two_seconds()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        using (var first = await client.GetAsync("/agents"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // Tenancy now refuses the key, but the edge still trusts its cache until it hears of the revocation.
        fixture.Backend.Revoke(key);
        using (var cached = await client.GetAsync("/agents"))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }

        await fixture.Bus.PublishAsync(new ApiKeyRevoked(Guid.NewGuid(), key.TenantId, key.KeyId, fixture.Time.GetUtcNow()));
        var published = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var response = await client.GetAsync("/agents");
            status = response.StatusCode;
            if (status == HttpStatusCode.Unauthorized)
            {
                await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
                break;
            }

            await Task.Delay(25);
        }
        while (published.Elapsed < TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task A_verification_in_flight_when_the_key_is_revoked_does_not_cache_it()
    {
        var key = fixture.Backend.AddKey();
        var hold = fixture.Backend.HoldVerification(key.ApiKey);
        var verification = fixture.Verifier.VerifyAsync(key.ApiKey, "late", CancellationToken.None).AsTask();

        // Tenancy said "valid" before the revocation; the answer arrives after the edge evicted the key.
        fixture.Verifier.Evict(key.KeyId);
        hold.SetResult();

        Assert.Null(await verification);
        using var response = await fixture.ClientWithKey(key.ApiKey).GetAsync("/agents");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
