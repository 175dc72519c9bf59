using System.Net;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class UsageReportTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Key_use_is_reported_once_per_interval_with_the_last_use()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/agents");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var firstUse = fixture.Time.GetUtcNow();
        var first = await NextReportAsync(key.KeyId);
        Assert.Equal(key.TenantId, first.TenantId);
        Assert.Equal(firstUse, first.LastUsedAt);

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync("/agents");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var secondUse = fixture.Time.GetUtcNow();
        var second = await NextReportAsync(key.KeyId);
        // Eight requests over two intervals: two reports, the second carrying the later use.
        Assert.Equal(secondUse, second.LastUsedAt);
        Assert.NotEqual(first.EventId, second.EventId);
    }

    /// <summary>Advances the fake clock an interval at a time until the publisher's timer has reported the key.</summary>
    private async Task<StitchFin.Contracts.Gateway.ApiKeyUsed> NextReportAsync(Guid keyId)
    {
        for (var attempt = 0; attempt < 40; attempt++)
        {
            fixture.Time.Advance(Interval);
            if (await fixture.Bus.NextKeyUseAsync(keyId, TimeSpan.FromMilliseconds(500)) is { } used)
            {
                return used;
            }
        }

        throw new Xunit.Sdk.XunitException("No ApiKeyUsed was published for the key.");
    }
}
