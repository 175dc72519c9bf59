using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using StitchFin.Metering.Data;

namespace StitchFin.Metering.Usage;

/// <summary>
/// Reads the tenant's rollup rows for the range in one round trip; the primary key, which leads with
/// (tenant_id, day), finds them. Individual events are never read.
/// </summary>
public static class UsageReportQuery
{
    private const string Sql = """
        SELECT day, provider, agent_id, messages, tokens_in, tokens_out, cost_usd
        FROM usage_rollups
        WHERE tenant_id = $1 AND day BETWEEN $2 AND $3
        """;

    public static Task<UsageReport> LoadAsync(MeteringDbContext db, Guid tenantId, UsageRange range, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(
            (db, tenantId, range),
            static async (_, state, ct) =>
            {
                var (db, tenantId, range) = state;
                await db.Database.OpenConnectionAsync(ct);
                try
                {
                    return await ReadAsync((NpgsqlConnection)db.Database.GetDbConnection(), tenantId, range, ct);
                }
                finally
                {
                    await db.Database.CloseConnectionAsync();
                }
            },
            verifySucceeded: null,
            cancellationToken);

    private static async Task<UsageReport> ReadAsync(NpgsqlConnection connection, Guid tenantId, UsageRange range, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = range.From, NpgsqlDbType = NpgsqlDbType.Date });
        command.Parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = range.To, NpgsqlDbType = NpgsqlDbType.Date });
        // Prepared once per pooled physical connection; later calls find it prepared and skip the round trip.
        await command.PrepareAsync(cancellationToken);

        var report = new UsageReportBuilder(tenantId, range);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            report.Add(
                reader.GetFieldValue<DateOnly>(0),
                reader.GetString(1),
                reader.GetGuid(2),
                reader.GetInt64(3),
                reader.GetInt64(4),
                reader.GetInt64(5),
                reader.GetDecimal(6));
        }

        return report.Build();
    }
}
