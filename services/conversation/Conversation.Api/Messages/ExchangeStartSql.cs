using Npgsql;
using NpgsqlTypes;
using StitchFin.Conversation.Idempotency;

namespace StitchFin.Conversation.Messages;

/// <summary>What an exchange talks to: the session's agent, its providers and system prompt.</summary>
public sealed record ExchangeTarget(
    Guid SessionId, Guid AgentId, string PrimaryProvider, string? PrimaryModel, string? FallbackProvider, string? FallbackModel, string SystemPrompt, bool AgentDeleted);

/// <summary>
/// The first step of an exchange in one round trip: finds the tenant's session and its agent and, only if the
/// session exists, tries to claim the idempotency key with an <c>INSERT ... ON CONFLICT DO NOTHING</c>. When the
/// key is already taken the caller settles it with <see cref="IdempotencyStore.ClaimAsync"/>.
/// </summary>
public static class ExchangeStartSql
{
    private const string Sql = $"""
        WITH target AS (
            SELECT s.agent_id, a.primary_provider, a.primary_model, a.fallback_provider, a.fallback_model, a.system_prompt,
                a.deleted_at IS NOT NULL AS agent_deleted
            FROM sessions s JOIN agents a ON a.id = s.agent_id
            WHERE s.id = $1 AND s.tenant_id = $2
        ), claimed AS (
            INSERT INTO idempotency_records (tenant_id, key, request_hash, state, claim_token, lease_expires_at, expires_at, created_at)
            SELECT $2, $3, $4, '{IdempotencyRecord.InFlight}', $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM target)
            ON CONFLICT (tenant_id, key) DO NOTHING
            RETURNING 1
        )
        SELECT agent_id, primary_provider, primary_model, fallback_provider, fallback_model, system_prompt, agent_deleted, EXISTS (SELECT 1 FROM claimed)
        FROM target
        """;

    /// <returns>The target, or null when the tenant has no such session; and whether the key was claimed.</returns>
    public static async Task<(ExchangeTarget? Target, bool Claimed)> RunAsync(
        NpgsqlConnection connection, Guid tenantId, Guid sessionId, string key, string requestHash, NewClaimValues claim, CancellationToken cancellationToken)
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
