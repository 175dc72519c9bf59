using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace StitchFin.FaultTests;

[Collection(FaultCollection.Name)]
public sealed class FaultTests(FaultSystem fixture)
{
    private StitchFinSystem System => fixture.System;

    [Fact]
    public async Task Metering_killed_under_load_still_counts_every_message_exactly_once()
    {
        var (tenant, sessions) = await PrepareAsync(sessionCount: 4);
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(2000, concurrency: 16, retryUntilSuccess: false, TimeSpan.Zero);

        await WaitUntil(() => load.Started >= 500);
        await System.KillAsync("metering");
        fixture.Ledger.Fault("SIGKILL metering during 2,000 messages");
        await Task.Delay(1000);
        await System.StartAsync("metering");
        await sending;

        await AssertExactUsage(tenant, load, expectedMessages: 2000, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Broker_down_for_ten_seconds_fails_no_request_and_loses_no_event()
    {
        var (tenant, sessions) = await PrepareAsync(sessionCount: 4);
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(400, concurrency: 4, retryUntilSuccess: false, TimeSpan.Zero);

        await WaitUntil(() => load.Started >= 50);
        await System.Broker.StopAsync();
        fixture.Ledger.Fault("RabbitMQ stopped for 10 s during 400 messages");
        await Task.Delay(TimeSpan.FromSeconds(10));
        await System.Broker.StartAsync();
        await sending;

        await AssertExactUsage(tenant, load, expectedMessages: 400, TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task Metering_queue_deleted_while_metering_is_stopped_loses_no_usage()
    {
        var (tenant, sessions) = await PrepareAsync(sessionCount: 2);
        await System.StopAsync("metering");
        await System.Broker.DeleteQueueAsync(System.VirtualHost, "metering-message-completed");
        fixture.Ledger.Fault("metering's queue deleted while metering was stopped, 40 messages sent");
        try
        {
            var load = new MessageLoad(tenant, sessions);
            await load.RunAsync(40, concurrency: 4, retryUntilSuccess: false, TimeSpan.Zero);
            await System.StartAsync("metering");

            await AssertExactUsage(tenant, load, expectedMessages: 40, TimeSpan.FromSeconds(90));
        }
        finally
        {
            await System.StartAsync("metering");
        }
    }

    [Fact]
    public async Task Conversation_killed_under_load_charges_each_retried_message_once()
    {
        var (tenant, sessions) = await PrepareAsync(sessionCount: 4);
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(300, concurrency: 8, retryUntilSuccess: true, TimeSpan.FromSeconds(150));

        await WaitUntil(() => load.Started >= 100);
        await System.KillAsync("conversation");
        fixture.Ledger.Fault("SIGKILL conversation during 300 messages (clients retry with the same key)");
        await Task.Delay(500);
        await System.StartAsync("conversation");
        await sending;

        await AssertExactUsage(tenant, load, expectedMessages: 300, TimeSpan.FromSeconds(60));
        var transcriptMessages = 0;
        foreach (var session in sessions)
        {
            transcriptMessages += (await tenant.WholeTranscriptAsync(session)).Count;
        }

        fixture.Ledger.DoubleCounted(Math.Max(0, transcriptMessages - 600) / 2);
        Assert.Equal(600, transcriptMessages);
    }

    [Fact]
    public async Task Providers_killed_mid_request_gives_a_prompt_problem_and_the_key_works_after_restart()
    {
        var (tenant, sessions) = await PrepareAsync(sessionCount: 1);
        // Slow vendors, so the kill lands while the request is inside providers.
        await System.RestartWithAsync("providers", new Dictionary<string, string> { ["Vendors__Mode"] = "default", ["Vendors__VendorA__LatenciesMs__0"] = "3000" });
        try
        {
            var key = Guid.NewGuid().ToString();
            var clock = Stopwatch.StartNew();
            var pending = Send(tenant, sessions[0], key);
            await Task.Delay(700);
            await System.KillAsync("providers");
            fixture.Ledger.Fault("SIGKILL providers mid-request");
            using (var response = await pending)
            {
                Assert.True(response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable,
                    $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the client waited {clock.Elapsed}");
            await System.RestartWithAsync("providers", new Dictionary<string, string> { ["Vendors__Mode"] = "fast", ["Vendors__VendorA__LatenciesMs__0"] = "0" });
            using var retried = await Send(tenant, sessions[0], key);
            Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
            fixture.Ledger.Requests(2);
        }
        finally
        {
            await System.RestartWithAsync("providers", new Dictionary<string, string> { ["Vendors__Mode"] = "fast", ["Vendors__VendorA__LatenciesMs__0"] = "0" });
        }
    }

    [Fact]
    public async Task Conversation_killed_mid_exchange_frees_the_key_within_five_seconds_of_its_restart()
    {
        var (tenant, sessions) = await PrepareAsync(sessionCount: 1);
        // Slow vendors, so the kill lands while the exchange holds the key.
        await System.RestartWithAsync("providers", new Dictionary<string, string> { ["Vendors__Mode"] = "default", ["Vendors__VendorA__LatenciesMs__0"] = "3000" });
        try
        {
            var key = Guid.NewGuid().ToString();
            var pending = Send(tenant, sessions[0], key);
            await WaitForClaimAsync(tenant.Id, key);
            await System.KillAsync("conversation");
            fixture.Ledger.Fault("SIGKILL conversation while an exchange holds its idempotency key");
            (await pending).Dispose();
            await System.StartAsync("conversation");
            var recovered = Stopwatch.StartNew();

            // The first retry that is not told "still running" must begin within 5 s of the restart.
            TimeSpan accepted;
            HttpResponseMessage retried;
            while (true)
            {
                accepted = recovered.Elapsed;
                retried = await Send(tenant, sessions[0], key);
                if (retried.StatusCode != HttpStatusCode.Conflict)
                {
                    break;
                }

                retried.Dispose();
                await Task.Delay(100);
            }

            using (retried)
            {
                Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
            }

            Assert.True(accepted <= TimeSpan.FromSeconds(5), $"the key was held {accepted} after conversation was back");
            fixture.Ledger.Requests(2);
            var usage = await tenant.WaitForUsageAsync(1, TimeSpan.FromSeconds(30));
            Assert.Equal(1, usage["totals"]!["messages"]!.GetValue<int>());
        }
        finally
        {
            await System.RestartWithAsync("providers", new Dictionary<string, string> { ["Vendors__Mode"] = "fast", ["Vendors__VendorA__LatenciesMs__0"] = "0" });
        }
    }

    [Fact]
    public async Task Vendors_that_always_fail_give_502_with_attempts_and_charge_nothing()
    {
        var (tenant, sessions) = await PrepareAsync(sessionCount: 1);
        await System.RestartWithAsync("providers", new Dictionary<string, string> { ["Vendors__Mode"] = "failing" });
        fixture.Ledger.Fault("vendors configured to always fail");
        try
        {
            for (var i = 0; i < 3; i++)
            {
                using var response = await Send(tenant, sessions[0], Guid.NewGuid().ToString());
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
                Assert.NotEmpty(body["attempts"]!.AsArray());
                Assert.All(body["attempts"]!.AsArray(), a => Assert.NotEqual("ok", a!["outcome"]!.GetValue<string>()));
            }

            fixture.Ledger.Requests(3);
            var transcript = await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{sessions[0]}/transcript", HttpStatusCode.OK);
            Assert.DoesNotContain(transcript["messages"]!.AsArray(), m => m!["role"]!.GetValue<string>() == "assistant");
            await Task.Delay(1500);
            var usage = await tenant.WaitForUsageAsync(0, TimeSpan.Zero);
            Assert.Equal(0, usage["totals"]!["messages"]!.GetValue<int>());
            Assert.Equal(0m, usage["totals"]!["costUsd"]!.GetValue<decimal>());
        }
        finally
        {
            await System.RestartWithAsync("providers", new Dictionary<string, string> { ["Vendors__Mode"] = "fast" });
        }
    }

    private Task<(Tenant Tenant, IReadOnlyList<Guid> Sessions)> PrepareAsync(int sessionCount) => FaultSteps.PrepareAsync(System, sessionCount);

    private Task AssertExactUsage(Tenant tenant, MessageLoad load, int expectedMessages, TimeSpan wait) =>
        FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, expectedMessages, wait);

    private static Task<HttpResponseMessage> Send(Tenant tenant, Guid session, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/messages") { Content = JsonContent.Create(new { content = "Are you there?" }) };
        request.Headers.Add("Idempotency-Key", key);
        return tenant.Client.SendAsync(request);
    }

    /// <summary>Waits until conversation has committed the claim of <paramref name="key"/>.</summary>
    private async Task WaitForClaimAsync(Guid tenantId, string key)
    {
        await using var connection = new NpgsqlConnection(System.DatabaseConnectionString("conversation"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM idempotency_records WHERE tenant_id = $1 AND key = $2", connection)
        {
            Parameters = { new NpgsqlParameter { Value = tenantId }, new NpgsqlParameter { Value = key } },
        };
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((long)(await command.ExecuteScalarAsync())! == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "conversation never claimed the key");
            await Task.Delay(20);
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }
}
