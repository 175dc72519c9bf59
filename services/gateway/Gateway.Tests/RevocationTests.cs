using System.Diagnostics;
using System.Globalization;
using System.Net;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
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

    [Fact]
    public async Task With_the_bus_down_cached_keys_are_verified_again_after_the_trust_window_and_a_revoked_one_is_refused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = GatewayWithoutBroker(clock);
        var kept = fixture.Backend.AddKey();
        var revoked = fixture.Backend.AddKey();
        await AssertStatusAsync(gateway, kept, HttpStatusCode.OK);
        await AssertStatusAsync(gateway, revoked, HttpStatusCode.OK);

        // No revocation event can arrive; the edge's cache still answers for the whole trust window.
        fixture.Backend.Revoke(revoked);
        clock.Advance(TimeSpan.FromSeconds(2));
        await AssertStatusAsync(gateway, kept, HttpStatusCode.OK);
        await AssertStatusAsync(gateway, revoked, HttpStatusCode.OK);
        Assert.Equal((1, 1), (fixture.Backend.VerifyCalls(kept.ApiKey), fixture.Backend.VerifyCalls(revoked.ApiKey)));

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await AssertStatusAsync(gateway, kept, HttpStatusCode.OK);
        await AssertStatusAsync(gateway, revoked, HttpStatusCode.Unauthorized);
        Assert.Equal((2, 2), (fixture.Backend.VerifyCalls(kept.ApiKey), fixture.Backend.VerifyCalls(revoked.ApiKey)));
    }

    [Fact]
    public async Task With_the_bus_down_and_tenancy_failing_a_cached_key_past_the_trust_window_is_503_not_401()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = GatewayWithoutBroker(clock);
        var key = fixture.Backend.AddKey();
        await AssertStatusAsync(gateway, key, HttpStatusCode.OK);

        fixture.Backend.FailVerification(key);
        clock.Advance(TimeSpan.FromSeconds(3));
        using var response = await fixture.ClientWithKey(key.ApiKey, gateway).GetAsync("/agents");
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(2, fixture.Backend.VerifyCalls(key.ApiKey));
    }

    [Fact]
    public async Task With_the_bus_up_a_cached_key_is_not_verified_again_on_the_hot_path()
    {
        var key = fixture.Backend.AddKey();
        var client = fixture.ClientWithKey(key.ApiKey);
        (await client.GetAsync("/agents")).Dispose();

        // Tenancy would refuse the key now; only the (unpublished) event would tell the edge.
        fixture.Backend.Revoke(key);
        for (var i = 0; i < 5; i++)
        {
            await fixture.AdvanceWithBusUpAsync(TimeSpan.FromSeconds(10));
            using var response = await client.GetAsync("/agents");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, fixture.Backend.VerifyCalls(key.ApiKey));
    }

    [Fact]
    public async Task A_link_that_goes_silent_while_the_bus_still_looks_connected_bounds_trust_all_the_same()
    {
        await using var link = PausableTcpProxy.Start(fixture.RabbitMq.Host, fixture.RabbitMq.Port);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = fixture.CreateGateway(
            new Dictionary<string, string?>
            {
                ["RabbitMq:Host"] = "127.0.0.1",
                ["RabbitMq:Port"] = link.Port.ToString(CultureInfo.InvariantCulture),
            },
            services => services.AddSingleton<TimeProvider>(clock));
        await GatewayFixture.WaitUntilReadyAsync(gateway.CreateClient());
        var key = fixture.Backend.AddKey();
        await AssertStatusAsync(gateway, key, HttpStatusCode.OK);
        await GatewayFixture.AdvanceWithBusUpAsync(gateway, clock, TimeSpan.FromSeconds(5));
        await AssertStatusAsync(gateway, key, HttpStatusCode.OK);

        // Nothing tells MassTransit the link is gone (no heartbeat has been missed yet); only the probes stop coming back.
        link.Pause();
        try
        {
            fixture.Backend.Revoke(key);
            clock.Advance(TimeSpan.FromSeconds(1) + TimeSpan.FromMilliseconds(1));
            await AssertStatusAsync(gateway, key, HttpStatusCode.Unauthorized);
            Assert.Equal(2, fixture.Backend.VerifyCalls(key.ApiKey));
            Assert.Equal(BusHealthStatus.Healthy, gateway.Services.GetRequiredService<IBusControl>().CheckHealth().Status);
        }
        finally
        {
            // Lets the bus stop cleanly with the gateway.
            link.Resume();
        }
    }

    /// <summary>A gateway whose broker never answers, on a clock of the test's own.</summary>
    private GatewayFactory GatewayWithoutBroker(FakeTimeProvider clock) => fixture.CreateGateway(
        new Dictionary<string, string?>
        {
            ["RabbitMq:Port"] = GatewayFixture.ClosedPort().ToString(CultureInfo.InvariantCulture),
            ["Edge:ApiKeys:TrustWhileDisconnected"] = "00:00:02",
        },
        services => services.AddSingleton<TimeProvider>(clock));

    private async Task AssertStatusAsync(GatewayFactory gateway, TestKey key, HttpStatusCode expected)
    {
        using var response = await fixture.ClientWithKey(key.ApiKey, gateway).GetAsync("/agents");
        Assert.Equal(expected, response.StatusCode);
    }
}
