using Npgsql;
using NpgsqlTypes;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Sessions;
using StitchFin.ServiceDefaults.Outbox;

namespace StitchFin.Conversation.Messages;

/// <summary>
/// Stores a completed exchange in one statement, so one round trip commits it: it completes the idempotency claim
/// with the response, and only if the claim is still this request's (and its session exists) does it advance the
/// session's counter, insert both messages numbered from it, and write the outbox row. The session row's update
/// lock orders concurrent exchanges of one session, so their sequence numbers never collide.
/// </summary>
public static class StoreExchangeSql
{
    private const string Sql = $"""
        WITH completed AS (
            UPDATE idempotency_records
            SET state = '{IdempotencyRecord.Completed}', response_status = $4, response_body = $5, expires_at = $6
            WHERE tenant_id = $1 AND key = $2 AND claim_token = $3 AND state = '{IdempotencyRecord.InFlight}'
              AND EXISTS (SELECT 1 FROM sessions WHERE id = $7 AND tenant_id = $1)
            RETURNING 1
        ), session AS (
            UPDATE sessions SET message_count = message_count + 2, last_message_at = $13
            WHERE id = $7 AND tenant_id = $1 AND EXISTS (SELECT 1 FROM completed)
            RETURNING message_count
        ), stored AS (
            INSERT INTO messages (id, tenant_id, session_id, sequence, role, content, channel, created_at,
                provider, fallback_used, tokens_in, tokens_out, cost_usd, latency_ms, model, finish_reason, usage_estimated, attempts,
                input, tool_calls, cached_tokens_in)
            SELECT $8, $1, $7, message_count - 1, '{SessionMessage.UserRole}', $9, $10, $11,
                NULL::varchar, NULL::boolean, NULL::integer, NULL::integer, NULL::numeric, NULL::integer,
                NULL::varchar, NULL::varchar, NULL::boolean, NULL::jsonb, $29, NULL::jsonb, NULL::integer FROM session
            UNION ALL
            SELECT $12, $1, $7, message_count, '{SessionMessage.AssistantRole}', $14, $10, $13,
                $15, $16, $17, $18, $19, $20, $25, $26, $27, $28, NULL::jsonb, $30, $35 FROM session
        ), response AS (
            INSERT INTO responses (id, tenant_id, session_id, user_message_id, previous_response_id, request, input_items, created_at)
            SELECT $12, $1, $7, $8, $32, $33, $34, $13 FROM session WHERE $31
        )
        INSERT INTO outbox_messages (message_id, message_type, payload, created_at, trace_parent)
        SELECT $21, $22, $23, $13, $24 FROM session
        """;

    /// <summary>
    /// A command that affects 1 row when the exchange was stored and 0 when the claim was no longer this request's.
    /// With <paramref name="response"/>, the Responses API's row is written too.
    /// </summary>
    public static NpgsqlCommand Command(
        NpgsqlConnection connection, IdempotencyCompletion completion, SessionMessage user, SessionMessage assistant, OutboxMessage outbox,
        ResponseRecord? response) =>
        new(Sql, connection)
        {
            Parameters =
            {
                Value(completion.TenantId, NpgsqlDbType.Uuid),
                Value(completion.Key, NpgsqlDbType.Text),
                Value(completion.Token, NpgsqlDbType.Uuid),
                Value(completion.Status, NpgsqlDbType.Integer),
                Value(completion.Body, NpgsqlDbType.Bytea),
                Value(completion.ExpiresAt, NpgsqlDbType.TimestampTz),
                Value(user.SessionId, NpgsqlDbType.Uuid),
                Value(user.Id, NpgsqlDbType.Uuid),
                Value(user.Content, NpgsqlDbType.Text),
                Value(user.Channel, NpgsqlDbType.Varchar),
                Value(user.CreatedAt, NpgsqlDbType.TimestampTz),
                Value(assistant.Id, NpgsqlDbType.Uuid),
                Value(assistant.CreatedAt, NpgsqlDbType.TimestampTz),
                Value(assistant.Content, NpgsqlDbType.Text),
                Value(assistant.Provider!, NpgsqlDbType.Varchar),
                Value(assistant.FallbackUsed!.Value, NpgsqlDbType.Boolean),
                Value(assistant.TokensIn!.Value, NpgsqlDbType.Integer),
                Value(assistant.TokensOut!.Value, NpgsqlDbType.Integer),
                Value(assistant.CostUsd!.Value, NpgsqlDbType.Numeric),
                Value(assistant.LatencyMs!.Value, NpgsqlDbType.Integer),
                Value(outbox.MessageId, NpgsqlDbType.Uuid),
                Value(outbox.MessageType, NpgsqlDbType.Varchar),
                Value(outbox.Payload, NpgsqlDbType.Jsonb),
                Nullable(outbox.TraceParent, NpgsqlDbType.Varchar),
                Nullable(assistant.Model, NpgsqlDbType.Varchar),
                Nullable(assistant.FinishReason, NpgsqlDbType.Varchar),
                Value(assistant.UsageEstimated ?? false, NpgsqlDbType.Boolean),
                Nullable(assistant.Attempts, NpgsqlDbType.Jsonb),
                Nullable(user.Input, NpgsqlDbType.Jsonb),
                Nullable(assistant.ToolCalls, NpgsqlDbType.Jsonb),
                Value(response is not null, NpgsqlDbType.Boolean),
                response?.PreviousResponseId is { } previous
                    ? Value(previous, NpgsqlDbType.Uuid)
                    : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
                Nullable(response?.Request, NpgsqlDbType.Jsonb),
                Nullable(response?.InputItems, NpgsqlDbType.Jsonb),
                assistant.CachedTokensIn is { } cached
                    ? Value(cached, NpgsqlDbType.Integer)
                    : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer },
            },
        };

    private static NpgsqlParameter Nullable(string? value, NpgsqlDbType type) =>
        value is null ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = type } : Value(value, type);

    private static NpgsqlParameter<T> Value<T>(T value, NpgsqlDbType type) => new() { TypedValue = value, NpgsqlDbType = type };
}
