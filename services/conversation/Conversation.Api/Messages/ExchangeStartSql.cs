using Npgsql;
using NpgsqlTypes;
using StitchFin.Conversation.Idempotency;

namespace StitchFin.Conversation.Messages;

/// <summary>What an exchange talks to: the session's agent, its providers and system prompt.</summary>
public sealed record ExchangeTarget(
    Guid SessionId, Guid AgentId, string PrimaryProvider, string? PrimaryModel, string? FallbackProvider, string? FallbackModel, string SystemPrompt, bool AgentDeleted);

/// <summary>
/// The first step of an exchange in one round trip: finds the tenant's session and its agent (for the OpenAI API,
/// first creating the completion's own session when it does not exist yet) and, only if the session exists, tries to
/// claim the idempotency key with an <c>INSERT ... ON CONFLICT DO NOTHING</c>. When the key is already taken the
/// caller settles it with <see cref="IdempotencyStore.ClaimAsync"/>. A row that already holds this claim's token is
/// this very statement's, committed by an earlier try whose connection broke before the answer: it counts as claimed,
/// so a retried statement never takes its own claim for someone else's.
/// The claim commits without waiting for its WAL to reach disk (<c>synchronous_commit</c> off for this transaction
/// only): that wait sits before the provider call, on every reply's first token. Nothing is lost by it: a claim lost
/// in a database crash only means the store statement, which commits synchronously and only for a claim that is still
/// this request's, finds none and stores nothing; the exchange is answered as in progress and charged never or once.
/// </summary>
public static class ExchangeStartSql
{
    private const string Sql = $"""
        WITH ensured AS (
            INSERT INTO sessions (id, tenant_id, agent_id, created_at, message_count)
            SELECT $1, $2, $9, $8, 0 WHERE $9 IS NOT NULL
            ON CONFLICT (id) DO NOTHING
            RETURNING agent_id
        ), found AS (
            SELECT agent_id FROM sessions WHERE id = $1 AND tenant_id = $2
            UNION ALL
            SELECT agent_id FROM ensured
        ), target AS (
            SELECT a.id AS agent_id, a.primary_provider, a.primary_model, a.fallback_provider, a.fallback_model, a.system_prompt,
                a.deleted_at IS NOT NULL AS agent_deleted
            FROM found f JOIN agents a ON a.id = f.agent_id
        ), claimed AS (
            INSERT INTO idempotency_records (tenant_id, key, request_hash, state, claim_token, lease_expires_at, expires_at, created_at)
            SELECT $2, $3, $4, '{IdempotencyRecord.InFlight}', $5, $6, $7, $8
            WHERE EXISTS (SELECT 1 FROM target) AND set_config('synchronous_commit', 'off', true) IS NOT NULL
            ON CONFLICT (tenant_id, key) DO NOTHING
            RETURNING 1
        )
        SELECT agent_id, primary_provider, primary_model, fallback_provider, fallback_model, system_prompt, agent_deleted,
            EXISTS (SELECT 1 FROM claimed)
            OR EXISTS (SELECT 1 FROM idempotency_records WHERE tenant_id = $2 AND key = $3 AND claim_token = $5 AND state = '{IdempotencyRecord.InFlight}')
        FROM target
        """;

    /// <param name="ensureForAgent">Create the session for this agent if it does not exist (the OpenAI API's own sessions).</param>
    /// <returns>The target, or null when the tenant has no such session; and whether the key was claimed.</returns>
    public static async Task<(ExchangeTarget? Target, bool Claimed)> RunAsync(
        NpgsqlConnection connection, Guid tenantId, Guid sessionId, string key, string requestHash, NewClaimValues claim, Guid? ensureForAgent,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter<Guid> { TypedValue = sessionId, NpgsqlDbType = NpgsqlDbType.Uuid },
                new NpgsqlParameter<Guid> { TypedValue = tenantId, NpgsqlDbType = NpgsqlDbType.Uuid },
                new NpgsqlParameter<string> { TypedValue = key, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter<string> { TypedValue = requestHash, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter<Guid> { TypedValue = claim.Token, NpgsqlDbType = NpgsqlDbType.Uuid },
                new NpgsqlParameter<DateTimeOffset> { TypedValue = claim.LeaseExpiresAt, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<DateTimeOffset> { TypedValue = claim.ExpiresAt, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<DateTimeOffset> { TypedValue = claim.CreatedAt, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                ensureForAgent is { } agentId
                    ? new NpgsqlParameter<Guid> { TypedValue = agentId, NpgsqlDbType = NpgsqlDbType.Uuid }
                    : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return (null, false);
        }

        var target = new ExchangeTarget(
            sessionId,
            reader.GetGuid(0),
            reader.GetString(1),
            await reader.IsDBNullAsync(2, cancellationToken) ? null : reader.GetString(2),
            await reader.IsDBNullAsync(3, cancellationToken) ? null : reader.GetString(3),
            await reader.IsDBNullAsync(4, cancellationToken) ? null : reader.GetString(4),
            reader.GetString(5),
            reader.GetBoolean(6));
        return (target, reader.GetBoolean(7));
    }
}
