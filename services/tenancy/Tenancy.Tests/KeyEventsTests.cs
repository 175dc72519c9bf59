using System.Net;
using System.Threading.Channels;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Contracts.Gateway;
using StitchFin.Contracts.Tenancy;
using StitchFin.Tenancy.Tests.Support;

namespace StitchFin.Tenancy.Tests;

/// <summary>Events between tenancy and the edge, through the real broker.</summary>
[Collection(TenancyCollection.Name)]
public sealed class KeyEventsTests(TenancyFixture fixture)
{
    private sealed record Received(Guid? MessageId, ApiKeyRevoked Message);

    [Fact]
    public async Task Revocation_reaches_the_broker_once_through_the_outbox()
    {
        var received = Channel.CreateUnbounded<Received>();
        var bus = await TestBus.StartAsync(fixture.Infrastructure.RabbitMq, rabbit => rabbit.ReceiveEndpoint("tenancy-tests-key-revoked", endpoint =>
        {
            // One at a time, in queue order, so "what arrived next" is well defined.
            endpoint.PrefetchCount = 1;
            endpoint.ConcurrentMessageLimit = 1;
            endpoint.Handler<ApiKeyRevoked>(context => received.Writer.WriteAsync(new Received(context.MessageId, context.Message)).AsTask());
        }));
        try
        {
            var tenant = await fixture.CreateTenantAsync("Revocations");
            var revokedKeyId = (await fixture.CreateKeyAsync(tenant.Client, "revoked")).GetProperty("id").GetGuid();
            var sentinelKeyId = (await fixture.CreateKeyAsync(tenant.Client, "sentinel")).GetProperty("id").GetGuid();

            fixture.Time.Advance(TimeSpan.FromMinutes(1));
            var revokedAt = fixture.Time.GetUtcNow();
            await RevokeAsync(tenant.Client, revokedKeyId);
            await RevokeAsync(tenant.Client, revokedKeyId);

            var first = await ReadAsync(received.Reader);
            Assert.Equal(revokedKeyId, first.Message.KeyId);
            Assert.Equal(tenant.Id, first.Message.TenantId);
            Assert.Equal(revokedAt, first.Message.OccurredAt);
            Assert.NotEqual(Guid.Empty, first.Message.EventId);
            Assert.Equal(first.Message.EventId, first.MessageId);

            // A second event for the repeated revocation would have been confirmed before the sentinel's was even
            // written, so it would be queued ahead of the sentinel's.
            await fixture.WaitForOutboxDrainedAsync();
            await RevokeAsync(tenant.Client, sentinelKeyId);
            var next = await ReadAsync(received.Reader);
            Assert.Equal(sentinelKeyId, next.Message.KeyId);
            Assert.NotEqual(first.Message.EventId, next.Message.EventId);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    [Fact]
    public async Task Usage_events_move_last_used_forward_only_and_only_for_the_keys_tenant()
    {
        var consumed = new ConsumedEvents<ApiKeyUsed>(used => used.EventId);
        var observer = fixture.Factory.Services.GetRequiredService<IBus>().ConnectConsumeObserver(consumed);
        var bus = await TestBus.StartAsync(fixture.Infrastructure.RabbitMq);
        try
        {
            var tenant = await fixture.CreateTenantAsync("Usage");
            var stranger = await fixture.CreateTenantAsync("Stranger");
            var keyId = Assert.Single(await fixture.ListKeysAsync(tenant.Client)).GetProperty("id").GetGuid();
            var usedAt = fixture.Time.GetUtcNow().AddMinutes(30);

            await PublishAndWaitAsync(bus, consumed, tenant.Id, keyId, usedAt);
            Assert.Equal(usedAt, await LastUsedAtAsync(tenant, keyId));

            await PublishAndWaitAsync(bus, consumed, tenant.Id, keyId, usedAt.AddMinutes(-10));
            Assert.Equal(usedAt, await LastUsedAtAsync(tenant, keyId));

            await PublishAndWaitAsync(bus, consumed, stranger.Id, keyId, usedAt.AddHours(1));
            Assert.Equal(usedAt, await LastUsedAtAsync(tenant, keyId));

            var later = usedAt.AddMinutes(5);
            await PublishAndWaitAsync(bus, consumed, tenant.Id, keyId, later);
            Assert.Equal(later, await LastUsedAtAsync(tenant, keyId));
        }
        finally
        {
            observer.Disconnect();
            await bus.StopAsync();
        }
    }

    private static async Task RevokeAsync(HttpClient client, Guid keyId)
    {
        using var response = await client.DeleteAsync($"/keys/{keyId}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task<Received> ReadAsync(ChannelReader<Received> reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await reader.ReadAsync(timeout.Token);
    }

    private static async Task PublishAndWaitAsync(IBus bus, ConsumedEvents<ApiKeyUsed> consumed, Guid tenantId, Guid keyId, DateTimeOffset usedAt)
    {
        var eventId = Guid.NewGuid();
        await bus.Publish(new ApiKeyUsed(eventId, tenantId, keyId, usedAt, usedAt));
        await consumed.WaitForAsync(eventId);
    }

    private async Task<DateTimeOffset?> LastUsedAtAsync(CreatedTenant tenant, Guid keyId)
    {
        var key = (await fixture.ListKeysAsync(tenant.Client)).Single(k => k.GetProperty("id").GetGuid() == keyId);
        var lastUsedAt = key.GetProperty("lastUsedAt");
        return lastUsedAt.ValueKind == System.Text.Json.JsonValueKind.Null ? null : Json.UtcTime(lastUsedAt);
    }
}
