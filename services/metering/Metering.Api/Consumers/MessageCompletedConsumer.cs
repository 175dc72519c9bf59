using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using StitchFin.Contracts.Conversation;
using StitchFin.Metering.Data;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Consumers;

/// <summary>Counts each completed message into its tenant x Chicago day x provider x agent rollup, exactly once.</summary>
public sealed partial class MessageCompletedConsumer(
    MeteringDbContext db,
    TimeProvider time,
    MeteringTelemetry telemetry,
    ILogger<MessageCompletedConsumer> logger) : IConsumer<MessageCompleted>
{
    public async Task Consume(ConsumeContext<MessageCompleted> context)
    {
        var message = context.Message;
        using var activity = MeteringTelemetry.Source.StartActivity("record usage");
        activity?.SetTag("stitchfin.event_id", message.EventId);
        activity?.SetTag("stitchfin.tenant_id", message.TenantId);

        var entry = UsageEntry.From(message);
        var now = time.GetUtcNow();
        var counted = await RecordAsync(entry, now, context.CancellationToken);
        activity?.SetTag("stitchfin.duplicate", !counted);
        if (counted)
        {
            telemetry.Counted(now - message.OccurredAt);
        }
        else
        {
            telemetry.SkippedDuplicate();
            LogDuplicate(message.EventId);
        }
    }

    private Task<bool> RecordAsync(UsageEntry entry, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.Database.CreateExecutionStrategy().ExecuteAsync(
            (db, entry, now),
            static async (_, state, ct) =>
            {
                var (db, entry, now) = state;
                await db.Database.OpenConnectionAsync(ct);
                try
                {
                    await using var command = UsageRollupSql.Command((NpgsqlConnection)db.Database.GetDbConnection(), entry, now);
                    // Prepared once per pooled physical connection; later calls find it prepared and skip the round trip.
                    await command.PrepareAsync(ct);
                    return await command.ExecuteNonQueryAsync(ct) == 1;
                }
                finally
                {
                    await db.Database.CloseConnectionAsync();
                }
            },
            verifySucceeded: null,
            cancellationToken);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MessageCompleted {EventId} was already counted; skipped")]
    private partial void LogDuplicate(Guid eventId);
}
