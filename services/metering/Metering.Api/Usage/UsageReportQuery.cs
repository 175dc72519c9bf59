using Npgsql;
using NpgsqlTypes;
using StitchFin.Metering.Data;
using StitchFin.ServiceDefaults.Data;

namespace StitchFin.Metering.Usage;

/// <summary>
/// Reads a report in one round trip of two statements, each found through a primary key that leads with
/// (tenant_id, day): the day rows of the range, and the range's totals per provider and agent summed in the
/// database, so a year's report moves about 370 rows instead of one per day, provider and agent. Individual
/// events are never read.
/// </summary>
public static class UsageReportQuery
{
    private const string DaysSql = """
        SELECT day, messages, tokens_in, tokens_out, cost_usd
        FROM usage_days
        WHERE tenant_id = $1 AND day BETWEEN $2 AND $3
        """;

    private const string ProviderAgentSql = """
        SELECT provider, agent_id, sum(messages)::bigint, sum(tokens_in)::bigint, sum(tokens_out)::bigint, sum(cost_usd)
        FROM usage_rollups
        WHERE tenant_id = $1 AND day BETWEEN $2 AND $3
        GROUP BY provider, agent_id
        """;

    public static Task<UsageReport> LoadAsync(MeteringDbContext db, Guid tenantId, UsageRange range, CancellationToken cancellationToken) =>
        db.WithConnectionAsync((tenantId, range), static (connection, state, ct) => ReadAsync(connection, state.tenantId, state.range, ct), cancellationToken);

    private static async Task<UsageReport> ReadAsync(NpgsqlConnection connection, Guid tenantId, UsageRange range, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands = { InRange(DaysSql, tenantId, range), InRange(ProviderAgentSql, tenantId, range) },
        };
        // Prepared once per pooled physical connection; later calls find it prepared and skip the round trip.
        await batch.PrepareAsync(cancellationToken);

        var report = new UsageReportBuilder(tenantId, range);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            report.AddDay(reader.GetFieldValue<DateOnly>(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetDecimal(4));
        }

        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            report.AddProviderAgent(reader.GetString(0), reader.GetGuid(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetDecimal(5));
        }

        return report.Build();
    }

    private static NpgsqlBatchCommand InRange(string sql, Guid tenantId, UsageRange range) => new(sql)
    {
        Parameters =
        {
            new NpgsqlParameter<Guid> { TypedValue = tenantId, NpgsqlDbType = NpgsqlDbType.Uuid },
            new NpgsqlParameter<DateOnly> { TypedValue = range.From, NpgsqlDbType = NpgsqlDbType.Date },
            new NpgsqlParameter<DateOnly> { TypedValue = range.To, NpgsqlDbType = NpgsqlDbType.Date },
        },
    };
}
