using System.Net;
using StitchFin.Gateway.Tests.Infrastructure;

namespace StitchFin.Gateway.Tests;

/// <summary>A client that keeps sending wrong keys is limited by address before its keys reach tenancy.</summary>
[Collection(GatewayCollection.Name)]
public sealed class FailedAuthenticationTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Wrong_keys_past_the_budget_are_429_without_reaching_tenancy_while_a_verified_key_still_works()
    {
        await using var gateway = fixture.CreateGateway(new Dictionary<string, string?>
        {
            ["Edge:FailedAuthentication:TokenLimit"] = "5",
            ["Edge:FailedAuthentication:TokensPerPeriod"] = "1",
            ["Edge:FailedAuthentication:ReplenishmentPeriod"] = "01:00:00",
        });
        // Once its bus is connected: connecting clears the key cache, which this test relies on.
        await GatewayFixture.WaitUntilReadyAsync(gateway.CreateClient());
        var valid = fixture.Backend.AddKey();
        using (var verified = await fixture.ClientWithKey(valid.ApiKey, gateway).GetAsync("/agents"))
        {
            Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        }

        var guesses = Enumerable.Range(0, 8).Select(i => $"sk_guess_{Guid.NewGuid():N}").ToArray();
        var statuses = new List<HttpStatusCode>();
        foreach (var guess in guesses)
        {
            using var response = await fixture.ClientWithKey(guess, gateway).GetAsync("/agents");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal(TimeSpan.FromHours(1), response.Headers.RetryAfter?.Delta);
                await ProblemAssert.IsProblemAsync(response, HttpStatusCode.TooManyRequests);
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
        Assert.All(guesses[5..], guess => Assert.Equal(0, fixture.Backend.VerifyCalls(guess)));

        using (var admin = gateway.CreateClient())
        {
            admin.DefaultRequestHeaders.Add("X-Admin-Key", "not-the-admin-key");
            using var refused = await admin.PostAsync("/tenants", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        // The key this gateway verified before still gets in from the limited address.
        using var stillValid = await fixture.ClientWithKey(valid.ApiKey, gateway).GetAsync("/agents");
        Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
    }
}
