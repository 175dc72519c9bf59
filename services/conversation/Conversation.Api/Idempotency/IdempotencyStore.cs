using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StitchFin.Conversation.Data;

namespace StitchFin.Conversation.Idempotency;

/// <summary>Claims, completes and releases idempotency keys; every step is a single conditional statement.</summary>
public sealed class IdempotencyStore(ConversationDbContext db, TimeProvider time, IOptions<IdempotencyOptions> options)
{
    // A claim can lose its row to a concurrent release or cleanup between INSERT and SELECT; trying again settles it.
    private const int MaxClaimRounds = 3;

    private readonly IdempotencyOptions _options = options.Value;

    /// <summary>The values a new claim inserts: a fresh token, a lease, and the retention period from now.</summary>
    public NewClaimValues NewClaim()
    {
        var now = time.GetUtcNowMicroseconds();
        return new NewClaimValues(Guid.NewGuid(), now + _options.Lease, now + _options.Retention, now);
    }

    /// <summary>
    /// Claims the key: inserts the record, or reads the one there and answers from it (completed, in flight,
    /// another request's), taking over a record whose lease or retention ran out.
    /// </summary>
    public async Task<ClaimResult> ClaimAsync(Guid tenantId, string key, string requestHash, CancellationToken cancellationToken)
    {
        for (var round = 0; round < MaxClaimRounds; round++)
        {
            var claim = NewClaim();
            var (now, token) = (claim.CreatedAt, claim.Token);
            var inserted = await db.Database.ExecuteSqlAsync($"""
                INSERT INTO idempotency_records (tenant_id, key, request_hash, state, claim_token, lease_expires_at, expires_at, created_at)
                VALUES ({tenantId}, {key}, {requestHash}, {IdempotencyRecord.InFlight}, {token}, {claim.LeaseExpiresAt}, {claim.ExpiresAt}, {now})
                ON CONFLICT (tenant_id, key) DO NOTHING
                """, cancellationToken);
            if (inserted == 1)
            {
                return new ClaimResult.Claimed(token);
            }

            var existing = await db.IdempotencyRecords.AsNoTracking()
                .SingleOrDefaultAsync(r => r.TenantId == tenantId && r.Key == key, cancellationToken);
            if (existing is null)
            {
                continue;
            }

            if (existing.ExpiresAt <= now || (existing.State == IdempotencyRecord.InFlight && existing.LeaseExpiresAt <= now))
            {
                if (await TakeOverAsync(tenantId, key, requestHash, token, now, cancellationToken))
                {
                    return new ClaimResult.Claimed(token);
                }

                continue;
            }

            if (existing.RequestHash != requestHash)
            {
                return new ClaimResult.KeyReused();
            }

            return existing is { State: IdempotencyRecord.Completed, ResponseStatus: { } status, ResponseBody: { } body }
                ? new ClaimResult.AlreadyCompleted(status, body)
                : new ClaimResult.InProgress();
        }

        return new ClaimResult.InProgress();
    }

    /// <summary>
    /// What completing the claim writes: its response, kept for the retention period from now. The caller's
    /// statement applies it only while the claim is still this request's, together with the exchange it describes.
    /// </summary>
    public IdempotencyCompletion Completion(Guid tenantId, string key, Guid token, int status, byte[] body) =>
        new(tenantId, key, token, status, body, time.GetUtcNowMicroseconds() + _options.Retention);

    /// <summary>The response a claim was completed with, for a retried transaction whose commit did go through.</summary>
    public async Task<byte[]?> CompletedBodyAsync(Guid tenantId, string key, Guid token, CancellationToken cancellationToken) =>
        await db.IdempotencyRecords.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.Key == key && r.ClaimToken == token && r.State == IdempotencyRecord.Completed)
            .Select(r => r.ResponseBody)
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>Gives the key back (nothing was stored or charged), so the client may retry with it.</summary>
    public async Task ReleaseAsync(Guid tenantId, string key, Guid token, CancellationToken cancellationToken) =>
        await db.IdempotencyRecords
            .Where(r => r.TenantId == tenantId && r.Key == key && r.ClaimToken == token && r.State == IdempotencyRecord.InFlight)
            .ExecuteDeleteAsync(cancellationToken);

    private async Task<bool> TakeOverAsync(Guid tenantId, string key, string requestHash, Guid token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var leaseExpiresAt = now + _options.Lease;
        var expiresAt = now + _options.Retention;
        var updated = await db.IdempotencyRecords
            .Where(r => r.TenantId == tenantId && r.Key == key
                && (r.ExpiresAt <= now || (r.State == IdempotencyRecord.InFlight && r.LeaseExpiresAt <= now)))
            .ExecuteUpdateAsync(record => record
                .SetProperty(r => r.RequestHash, requestHash)
                .SetProperty(r => r.State, IdempotencyRecord.InFlight)
                .SetProperty(r => r.ClaimToken, token)
                .SetProperty(r => r.LeaseExpiresAt, leaseExpiresAt)
                .SetProperty(r => r.ExpiresAt, expiresAt)
                .SetProperty(r => r.CreatedAt, now)
                .SetProperty(r => r.ResponseStatus, (int?)null)
                .SetProperty(r => r.ResponseBody, (byte[]?)null), cancellationToken);
        return updated == 1;
    }
}

/// <summary>A claim to complete with its response (see <see cref="IdempotencyStore.Completion"/>).</summary>
public sealed record IdempotencyCompletion(Guid TenantId, string Key, Guid Token, int Status, byte[] Body, DateTimeOffset ExpiresAt);

/// <summary>The values a new claim inserts (see <see cref="IdempotencyStore.NewClaim"/>).</summary>
public sealed record NewClaimValues(Guid Token, DateTimeOffset LeaseExpiresAt, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt);
