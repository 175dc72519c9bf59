using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StitchFin.Conversation.Data;
using StitchFin.ServiceDefaults.Data;
using Microsoft.Extensions.Time.Testing;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.Tests.Infrastructure;

namespace StitchFin.Conversation.Tests;

/// <summary>The service on a fake clock, so leases and retention can be run out without waiting.</summary>
public sealed class FakeClockConversationFixture : ConversationFixture
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 27, 22, 30, 0, TimeSpan.Zero));

    protected override TimeProvider? Time => Clock;
}

public sealed class IdempotencyLeaseTests : IClassFixture<FakeClockConversationFixture>
{
    private readonly FakeClockConversationFixture _fixture;

    public IdempotencyLeaseTests(FakeClockConversationFixture fixture)
    {
        _fixture = fixture;
        fixture.Providers.Reset();
    }

    [Fact]
    public async Task A_claim_left_by_a_crashed_request_is_honoured_until_its_lease_expires_then_taken_over()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(_fixture.Factory.CreateClientFor(tenantId));
        var session = await tenant.CreateSessionAsync();
        var now = _fixture.Clock.GetUtcNow();
        // What a process that died after claiming the key (and before answering) leaves behind.
        await _fixture.WithDbAsync(async db =>
        {
            db.IdempotencyRecords.Add(new IdempotencyRecord
            {
                TenantId = tenantId,
                Key = "crashed-key",
                RequestHash = new MessageInput("Are you there?", "text", null).Hash(session),
                State = IdempotencyRecord.InFlight,
                ClaimToken = Guid.NewGuid(),
                LeaseExpiresAt = now + Lease,
                ExpiresAt = now.AddHours(24),
                CreatedAt = now,
            });
            return await db.SaveChangesAsync();
        });

        var busy = await tenant.SendMessageAsync(session, "crashed-key", "Are you there?");
        Assert.Equal(HttpStatusCode.Conflict, busy.Status);
        Assert.Equal("1", busy.RetryAfter);
        Assert.Equal(0, _fixture.Providers.Calls);

        _fixture.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var takenOver = await tenant.SendMessageAsync(session, "crashed-key", "Are you there?");
        Assert.Equal(HttpStatusCode.Created, takenOver.Status);
        Assert.Equal(1, _fixture.Providers.Calls);

        var replay = await tenant.SendMessageAsync(session, "crashed-key", "Are you there?");
        Assert.True(replay.Replayed);
        Assert.Equal(takenOver.Body, replay.Body);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task A_long_exchange_renews_its_lease_and_keeps_its_key_while_it_runs()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(_fixture.Factory.CreateClientFor(tenantId));
        var session = await tenant.CreateSessionAsync();
        var release = new TaskCompletionSource();
        _fixture.Providers.Reset(async (request, context) =>
        {
            await release.Task;
            return await FakeProviders.Succeed(request, context);
        });

        var first = tenant.SendMessageAsync(session, "long-key", "Take your time");
        await WaitUntilAsync(() => Task.FromResult(_fixture.Providers.Calls == 1));
        // Well past the lease, one renewal period at a time, each renewal seen in the database before going on.
        var renewEvery = Options.RenewEvery;
        for (var elapsed = TimeSpan.Zero; elapsed <= Lease + renewEvery; elapsed += renewEvery)
        {
            _fixture.Clock.Advance(renewEvery);
            var renewedUntil = _fixture.Clock.GetUtcNow() + Lease;
            await WaitUntilAsync(async () => await LeaseOfAsync(tenantId, "long-key") >= renewedUntil.AddMilliseconds(-1));
        }

        var meanwhile = await tenant.SendMessageAsync(session, "long-key", "Take your time");
        Assert.Equal(HttpStatusCode.Conflict, meanwhile.Status);
        release.SetResult();
        Assert.Equal(HttpStatusCode.Created, (await first).Status);
        Assert.True((await tenant.SendMessageAsync(session, "long-key", "Take your time")).Replayed);
        Assert.Equal(1, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task The_first_statement_of_an_exchange_retried_after_its_commit_still_holds_its_own_claim()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(_fixture.Factory.CreateClientFor(tenantId));
        var session = await tenant.CreateSessionAsync();
        await using var scope = _fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConversationDbContext>();
        var claim = scope.ServiceProvider.GetRequiredService<IdempotencyStore>().NewClaim();

        // The same statement twice is what the retry strategy sends when a connection breaks after the commit.
        var first = await StartAsync(db, tenantId, session, claim);
        var retried = await StartAsync(db, tenantId, session, claim);
        var someoneElse = await StartAsync(db, tenantId, session, claim with { Token = Guid.NewGuid() });

        Assert.Equal((true, true, false), (first, retried, someoneElse));
    }

    [Fact]
    public async Task A_request_whose_claim_was_taken_over_while_providers_answered_stores_nothing()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(_fixture.Factory.CreateClientFor(tenantId));
        var session = await tenant.CreateSessionAsync();
        var otherToken = Guid.NewGuid();
        _fixture.Providers.Reset(async (request, context) =>
        {
            // What another request does meanwhile when it takes over a lease that ran out.
            await _fixture.WithDbAsync(db => db.IdempotencyRecords
                .Where(r => r.TenantId == tenantId && r.Key == "overtaken-key")
                .ExecuteUpdateAsync(r => r.SetProperty(x => x.ClaimToken, otherToken)));
            return await FakeProviders.Succeed(request, context);
        });

        var answer = await tenant.SendMessageAsync(session, "overtaken-key", "Still mine?");

        Assert.Equal(HttpStatusCode.Conflict, answer.Status);
        var (messages, counted, record) = await _fixture.WithDbAsync(async db => (
            await db.Messages.CountAsync(m => m.SessionId == session),
            await db.Sessions.Where(s => s.Id == session).Select(s => s.MessageCount).SingleAsync(),
            await db.IdempotencyRecords.AsNoTracking().SingleAsync(r => r.TenantId == tenantId && r.Key == "overtaken-key")));
        Assert.Equal((0, 0), (messages, counted));
        Assert.Equal((IdempotencyRecord.InFlight, otherToken, (byte[]?)null), (record.State, record.ClaimToken, record.ResponseBody));
    }

    [Fact]
    public async Task Keys_are_kept_for_24_hours_and_then_deleted_by_the_cleanup()
    {
        var tenantId = Guid.NewGuid();
        var tenant = new TenantClient(_fixture.Factory.CreateClientFor(tenantId));
        var session = await tenant.CreateSessionAsync();
        var first = await tenant.SendMessageAsync(session, "day-key", "Good morning");
        Assert.Equal(HttpStatusCode.Created, first.Status);

        _fixture.Clock.Advance(TimeSpan.FromHours(23) + TimeSpan.FromMinutes(59));
        var cleanup = _fixture.Factory.Services.GetRequiredService<IdempotencyCleanupService>();
        await cleanup.DeleteExpiredAsync(CancellationToken.None);
        var stillThere = await tenant.SendMessageAsync(session, "day-key", "Good morning");
        Assert.True(stillThere.Replayed);
        Assert.Equal(first.Body, stillThere.Body);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await tenant.SendMessageAsync(session, "day-key", "Good evening")).Status);

        // Advancing past the retention and one cleanup interval lets the periodic cleanup run on its own.
        _fixture.Clock.Advance(TimeSpan.FromMinutes(2));
        _fixture.Clock.Advance(TimeSpan.FromMinutes(10));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await CountAsync(tenantId) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, await CountAsync(tenantId));
        var fresh = await tenant.SendMessageAsync(session, "day-key", "Good evening");
        Assert.Equal(HttpStatusCode.Created, fresh.Status);
        Assert.False(fresh.Replayed);
        Assert.Equal(2, _fixture.Providers.Calls);
    }

    [Fact]
    public async Task An_expired_record_not_yet_cleaned_up_does_not_block_its_key()
    {
        var tenant = new TenantClient(_fixture.Factory.CreateClientFor(Guid.NewGuid()));
        var session = await tenant.CreateSessionAsync();
        Assert.Equal(HttpStatusCode.Created, (await tenant.SendMessageAsync(session, "old-key", "Monday")).Status);

        _fixture.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var reused = await tenant.SendMessageAsync(session, "old-key", "Tuesday");

        Assert.Equal(HttpStatusCode.Created, reused.Status);
        Assert.Equal(2, _fixture.Providers.Calls);
    }

    private IdempotencyOptions Options => _fixture.Factory.Services.GetRequiredService<IOptions<IdempotencyOptions>>().Value;

    private TimeSpan Lease => Options.Lease;

    private Task<DateTimeOffset> LeaseOfAsync(Guid tenantId, string key) =>
        _fixture.WithDbAsync(db => db.IdempotencyRecords.Where(r => r.TenantId == tenantId && r.Key == key).Select(r => r.LeaseExpiresAt).SingleAsync());

    private static async Task<bool> StartAsync(ConversationDbContext db, Guid tenantId, Guid session, NewClaimValues claim) =>
        (await db.WithConnectionAsync(0, (connection, _, ct) => ExchangeStartSql.RunAsync(
            connection, tenantId, session, "retried-key", "hash", claim, ensureForAgent: null, ct), CancellationToken.None)).Claimed;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 30 s");
            await Task.Delay(20);
        }
    }

    private Task<int> CountAsync(Guid tenantId) =>
        _fixture.WithDbAsync(db => db.IdempotencyRecords.CountAsync(r => r.TenantId == tenantId));
}
