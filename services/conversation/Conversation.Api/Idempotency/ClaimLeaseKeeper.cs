using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using StitchFin.Conversation.Data;
using StitchFin.ServiceDefaults.Data;

namespace StitchFin.Conversation.Idempotency;

/// <summary>
/// Keeps the leases of the claims this process is working on alive, so a lease can be short: a claim left by a
/// process that died (or lost its database) runs out within <see cref="IdempotencyOptions.Lease"/> and its key can
/// be retried, while a long exchange (a slow provider, a long stream) keeps its key for as long as it runs. Every
/// <see cref="IdempotencyOptions.RenewEvery"/> one statement renews every held claim, so the cost does not grow with
/// the message rate, and an exchange shorter than that is never renewed at all.
/// </summary>
public sealed partial class ClaimLeaseKeeper(
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<IdempotencyOptions> options,
    ILogger<ClaimLeaseKeeper> logger) : BackgroundService
{
    private const string RenewSql = $"""
        UPDATE idempotency_records r SET lease_expires_at = $4
        FROM unnest($1, $2, $3) AS held(tenant_id, key, claim_token)
        WHERE r.tenant_id = held.tenant_id AND r.key = held.key AND r.claim_token = held.claim_token
            AND r.state = '{IdempotencyRecord.InFlight}'
        """;

    private readonly ConcurrentDictionary<Guid, (Guid TenantId, string Key)> _held = new();

    /// <summary>Keeps the claim's lease alive until the returned handle is disposed.</summary>
    public Held Hold(Guid tenantId, string key, Guid token)
    {
        _held[token] = (tenantId, key);
        return new Held(this, token);
    }

    /// <summary>Renews every held claim's lease from now; returns how many records were renewed.</summary>
    public async Task<int> RenewAsync(CancellationToken cancellationToken)
    {
        var held = _held.ToArray();
        if (held.Length == 0)
        {
            return 0;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConversationDbContext>();
        var leaseExpiresAt = time.GetUtcNowMicroseconds() + options.Value.Lease;
        return await db.WithConnectionAsync((held, leaseExpiresAt), static async (connection, state, ct) =>
        {
            await using var command = new NpgsqlCommand(RenewSql, connection)
            {
                Parameters =
                {
                    new NpgsqlParameter<Guid[]> { TypedValue = state.held.Select(h => h.Value.TenantId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                    new NpgsqlParameter<string[]> { TypedValue = state.held.Select(h => h.Value.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                    new NpgsqlParameter<Guid[]> { TypedValue = state.held.Select(h => h.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                    new NpgsqlParameter<DateTimeOffset> { TypedValue = state.leaseExpiresAt, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                },
            };
            return await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RenewEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RenewAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next tick tries again; a lease that runs out meanwhile only lets a retry take the key over,
                    // and the exchange that held it then stores nothing (its claim is no longer its own).
                    LogRenewFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the leases of held idempotency claims: {Reason}")]
    private partial void LogRenewFailed(string reason);

    public readonly struct Held(ClaimLeaseKeeper keeper, Guid token) : IDisposable
    {
        public void Dispose() => keeper._held.TryRemove(token, out _);
    }
}
