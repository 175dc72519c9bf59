using Npgsql;
using NpgsqlTypes;

namespace StitchFin.Metering.Usage;

/// <summary>
/// The one statement that counts an event: it claims the event id and, only if the claim is new, adds the event
/// to its day row and then to its detailed rollup row. One statement is one transaction (or part of one batch's),
/// so a redelivered or concurrently delivered event (the claim waits on the other transaction's key, then finds it
/// taken) is never counted twice. Each step reads the one before it, so the rows are locked in a fixed order (event,
/// day, rollup); <see cref="UsageRecorder"/> sorts a batch the same way, so metering instances cannot deadlock.
/// </summary>
public static class UsageRollupSql
{
    public const string RecordOnce = """
        WITH claimed AS (
            INSERT INTO processed_events (event_id, processed_at) VALUES ($1, $2)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
        ), counted_day AS (
            INSERT INTO usage_days AS d (tenant_id, day, messages, tokens_in, tokens_out, cost_usd)
            SELECT $3, $4, 1, $7, $8, $9 FROM claimed
            ON CONFLICT (tenant_id, day) DO UPDATE SET
                messages = d.messages + 1,
                tokens_in = d.tokens_in + excluded.tokens_in,
                tokens_out = d.tokens_out + excluded.tokens_out,
                cost_usd = d.cost_usd + excluded.cost_usd
            RETURNING 1
        )
        INSERT INTO usage_rollups AS r (tenant_id, day, provider, agent_id, messages, tokens_in, tokens_out, cost_usd)
        SELECT $3, $4, $5, $6, 1, $7, $8, $9 FROM counted_day
        ON CONFLICT (tenant_id, day, provider, agent_id) DO UPDATE SET
            messages = r.messages + 1,
            tokens_in = r.tokens_in + excluded.tokens_in,
            tokens_out = r.tokens_out + excluded.tokens_out,
            cost_usd = r.cost_usd + excluded.cost_usd
        """;

    /// <summary>The statement for one event, as a batch member (<see cref="UsageRecorder"/>, benchmarks, backfills).</summary>
    public static NpgsqlBatchCommand BatchCommand(UsageEntry entry, DateTimeOffset processedAt)
    {
        var command = new NpgsqlBatchCommand(RecordOnce);
        AddParameters(command.Parameters, entry, processedAt);
        return command;
    }

    private static void AddParameters(NpgsqlParameterCollection parameters, UsageEntry entry, DateTimeOffset processedAt)
    {
        parameters.Add(new NpgsqlParameter<Guid> { TypedValue = entry.EventId, NpgsqlDbType = NpgsqlDbType.Uuid });
        parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = processedAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        parameters.Add(new NpgsqlParameter<Guid> { TypedValue = entry.TenantId, NpgsqlDbType = NpgsqlDbType.Uuid });
        parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = entry.Day, NpgsqlDbType = NpgsqlDbType.Date });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Provider, NpgsqlDbType = NpgsqlDbType.Varchar });
        parameters.Add(new NpgsqlParameter<Guid> { TypedValue = entry.AgentId, NpgsqlDbType = NpgsqlDbType.Uuid });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = entry.TokensIn, NpgsqlDbType = NpgsqlDbType.Bigint });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = entry.TokensOut, NpgsqlDbType = NpgsqlDbType.Bigint });
        parameters.Add(new NpgsqlParameter<decimal> { TypedValue = entry.CostUsd, NpgsqlDbType = NpgsqlDbType.Numeric });
    }
}
