using System.Net;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class RateLimitTests(StitchFinSystem system)
{
    [Fact]
    public async Task A_tenant_over_its_limit_gets_429_with_retry_after_and_another_tenant_is_unaffected()
    {
        var noisy = await Tenant.CreateAsync(system, "Noisy");
        var quiet = await Tenant.CreateAsync(system, "Quiet");

        // Well past the bucket (200 tokens, refilled at 100 per second) in one burst.
        var burst = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => noisy.Client.GetAsync("/tenants/me")));
        var limited = burst.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        using (var quietResponse = await quiet.Client.GetAsync("/tenants/me"))
        {
            Assert.Equal(HttpStatusCode.OK, quietResponse.StatusCode);
        }

        Assert.NotEmpty(limited);
        Assert.All(burst, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, r.StatusCode.ToString()));
        var first = limited[0];
        Assert.True(first.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, "429 without Retry-After in seconds");
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
        foreach (var response in burst)
        {
            response.Dispose();
        }
    }
}
