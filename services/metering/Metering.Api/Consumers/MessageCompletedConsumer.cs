using MassTransit;
using StitchFin.Contracts.Conversation;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Consumers;

/// <summary>Counts each completed message into its tenant x Chicago day x provider x agent rollup, exactly once.</summary>
public sealed partial class MessageCompletedConsumer(
    UsageRecorder recorder,
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
        var counted = await recorder.RecordAsync(entry, now, context.CancellationToken);
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "MessageCompleted {EventId} was already counted; skipped")]
    private partial void LogDuplicate(Guid eventId);
}
