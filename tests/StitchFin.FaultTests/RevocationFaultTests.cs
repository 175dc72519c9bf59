using System.Diagnostics;
using System.Net;

namespace StitchFin.FaultTests;

/// <summary>Revocation fails closed: with the broker down, the edge hears no revocation, and still refuses the key in time.</summary>
[Collection(FaultCollection.Name)]
public sealed class RevocationFaultTests(FaultSystem fixture)
{
    private static readonly TimeSpan Promise = TimeSpan.FromSeconds(2);

    private StitchFinSystem System => fixture.System;

    [Fact]
    public async Task A_key_revoked_while_the_broker_is_down_is_refused_within_two_seconds()
    {
        var tenant = await Tenant.CreateAsync(System);
        var second = await tenant.ExpectAsync(HttpMethod.Post, "/keys", HttpStatusCode.Created, new { name = "revoked in an outage" });
        using var secondClient = System.CreateClient(second["apiKey"]!.GetValue<string>());
        using (var cached = await secondClient.GetAsync("/tenants/me"))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }

        await System.Broker.StopAsync();
        fixture.Ledger.Fault("RabbitMQ stopped, then a key in use revoked (the edge hears no ApiKeyRevoked)");
        try
        {
            // In use right up to the revocation, so the edge holds a verification made during the outage.
            using (var inUse = await secondClient.GetAsync("/tenants/me"))
            {
                Assert.Equal(HttpStatusCode.OK, inUse.StatusCode);
            }

            await tenant.ExpectAsync(HttpMethod.Delete, $"/keys/{second["id"]}", HttpStatusCode.NoContent);
            var sinceRevoked = Stopwatch.StartNew();
            var answers = new List<(TimeSpan At, HttpStatusCode Status)>();
            while (true)
            {
                using var response = await secondClient.GetAsync("/tenants/me");
                answers.Add((sinceRevoked.Elapsed, response.StatusCode));
                if (response.StatusCode != HttpStatusCode.OK || sinceRevoked.Elapsed > Promise)
                {
                    break;
                }

                await Task.Delay(50);
            }

            var (at, status) = answers[^1];
            Assert.True(status == HttpStatusCode.Unauthorized && at <= Promise,
                "answers after the revocation: " + string.Join(", ", answers.Select(a => $"{(int)a.Status} at {a.At.TotalMilliseconds:F0} ms")));
        }
        finally
        {
            await System.Broker.StartAsync();
        }
    }
}
