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

        // The key is verified once before the burst: on a loaded machine one verification that outlasts its timeout
        // answers every waiting request 503 (keys cannot be verified right now), and the limiter is never reached.
        using (var warm = await noisy.Client.GetAsync("/tenants/me"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        // Well past the bucket (200 tokens, refilled once a minute in this system) in one burst.
        var burst = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => noisy.Client.GetAsync("/tenants/me")));
        var limited = burst.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        using (var quietResponse = await quiet.Client.GetAsync("/tenants/me"))
        {
            Assert.Equal(HttpStatusCode.OK, quietResponse.StatusCode);
        }

        var statuses = string.Join(", ", burst.GroupBy(r => (int)r.StatusCode).Select(g => $"{g.Key} x{g.Count()}"));
        Assert.True(limited.Count >= 100, $"{limited.Count} of 500 requests limited ({statuses})");
        Assert.All(burst, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, r.StatusCode.ToString()));
        var first = limited[0];
        Assert.True(first.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 and <= 60 }, "429 without Retry-After in seconds");
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
        foreach (var response in burst)
        {
            response.Dispose();
        }
    }
}
