using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace StitchFin.FaultTests;

/// <summary>
/// A minute without RabbitMQ: every route that needs only PostgreSQL answers through the edge, the edge stays ready
/// and shows the bus down, and once the broker is back the outboxes deliver what happened meanwhile.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class BrokerOutageTests(FaultSystem fixture)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(60);

    private StitchFinSystem System => fixture.System;

    [Fact]
    public async Task Broker_down_for_a_minute_keeps_every_database_route_answering_and_delivers_the_events_after()
    {
        using var anonymous = System.CreateClient();
        await FaultSteps.WaitUntilAsync(async () => (await ReadinessAsync(anonymous))["status"]!.GetValue<string>() == "ok",
            TimeSpan.FromMinutes(1), "the edge ready with every bus connected before the outage");

        await System.Broker.StopAsync();
        var outage = Stopwatch.StartNew();
        fixture.Ledger.Fault("RabbitMQ stopped for 60 s: tenants, keys, agents, sessions, usage and messages through the edge");
        Tenant tenant;
        MessageLoad load;
        var sent = 0;
        string apiKey;
        try
        {
            // The edge stays ready and says its bus is down.
            await FaultSteps.WaitUntilAsync(async () => (await ReadinessAsync(anonymous))["bus"]!["gateway"]!.GetValue<string>() != "ok",
                TimeSpan.FromSeconds(30), "the edge reports its bus down");

            tenant = await Tenant.CreateAsync(System, "Outage");
            var key = await tenant.ExpectAsync(HttpMethod.Post, "/keys", HttpStatusCode.Created, new { name = "outage" });
            var keyId = key["id"]!.GetValue<Guid>();
            apiKey = key["apiKey"]!.GetValue<string>();
            var keys = await tenant.ExpectAsync(HttpMethod.Get, "/keys", HttpStatusCode.OK);
            Assert.Contains(keys.AsArray(), k => k!["id"]!.GetValue<Guid>() == keyId);
            var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
            var sessions = new List<Guid>();
            for (var i = 0; i < 2; i++)
            {
                sessions.Add((await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>());
            }

            load = new MessageLoad(tenant, sessions);
            // One round after another until the last stretch of the minute: every route answers all along.
            while (outage.Elapsed < Outage - TimeSpan.FromSeconds(10))
            {
                await AssertReadyWithoutBusAsync(anonymous);
                await load.RunAsync(10, concurrency: 4, retryUntilSuccess: false, TimeSpan.Zero);
                sent += 10;
                Assert.Empty(load.Failures);
                await tenant.ExpectAsync(HttpMethod.Get, "/keys", HttpStatusCode.OK);
                await tenant.ExpectAsync(HttpMethod.Get, "/agents", HttpStatusCode.OK);
                await tenant.ExpectAsync(HttpMethod.Get, $"/sessions?agentId={agent}", HttpStatusCode.OK);
                await tenant.ExpectAsync(HttpMethod.Get, UsagePath(), HttpStatusCode.OK);
                await Task.Delay(TimeSpan.FromSeconds(2));
            }

            // Late in the outage the new key is used (so the edge caches it for longer than this test runs) and
            // revoked: only the edge's bus can tell it.
            using (var withKey = System.CreateClient(apiKey))
            using (var used = await withKey.GetAsync("/agents"))
            {
                Assert.Equal(HttpStatusCode.OK, used.StatusCode);
            }

            await tenant.ExpectAsync(HttpMethod.Delete, $"/keys/{keyId}", HttpStatusCode.NoContent);
            var revoked = await tenant.ExpectAsync(HttpMethod.Get, "/keys", HttpStatusCode.OK);
            Assert.NotNull(revoked.AsArray().Single(k => k!["id"]!.GetValue<Guid>() == keyId)!["revokedAt"]);
            await AssertReadyWithoutBusAsync(anonymous);

            var rest = Outage - outage.Elapsed;
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }

            await AssertReadyWithoutBusAsync(anonymous);
        }
        finally
        {
            await System.Broker.StartAsync();
        }

        // The edge's receive endpoint reconnects on MassTransit's back-off (up to 30 s between attempts), then drops its
        // cached keys (a revocation sent while it was away never reached it) or hears the revocation itself.
        using (var withKey = System.CreateClient(apiKey))
        {
            await FaultSteps.WaitUntilAsync(async () =>
            {
                using var response = await withKey.GetAsync("/agents");
                return response.StatusCode == HttpStatusCode.Unauthorized;
            }, TimeSpan.FromSeconds(90), "the edge refuses the key revoked during the outage");
        }

        await FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, sent, TimeSpan.FromSeconds(90));
        await FaultSteps.WaitUntilAsync(async () => await OutboxRowsAsync("tenancy") == 0 && await OutboxRowsAsync("conversation") == 0,
            TimeSpan.FromSeconds(60), "tenancy's and conversation's outboxes delivered every event");
        await FaultSteps.WaitUntilAsync(async () => (await ReadinessAsync(anonymous))["status"]!.GetValue<string>() == "ok",
            TimeSpan.FromSeconds(60), "the edge reports every bus connected again");
    }

    /// <summary>The edge's readiness answers 200 while the bus is down, and names it.</summary>
    private static async Task AssertReadyWithoutBusAsync(HttpClient anonymous)
    {
        var readiness = await ReadinessAsync(anonymous);
        Assert.Equal("degraded", readiness["status"]!.GetValue<string>());
        Assert.NotEqual("ok", readiness["bus"]!["gateway"]!.GetValue<string>());
        Assert.All(readiness["services"]!.AsObject(), service => Assert.Equal("ok", service.Value!.GetValue<string>()));
    }

    private static async Task<JsonNode> ReadinessAsync(HttpClient anonymous)
    {
        using var response = await anonymous.GetAsync("/health/ready");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /health/ready: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private static string UsagePath()
    {
        var today = DateTime.UtcNow.Date;
        return $"/usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}";
    }

    /// <summary>Events a service has written and the relay has not yet had confirmed by the broker (parked rows aside).</summary>
    private async Task<long> OutboxRowsAsync(string service)
    {
        await using var connection = new NpgsqlConnection(System.DatabaseConnectionString(service));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM outbox_messages WHERE parked_at IS NULL", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
