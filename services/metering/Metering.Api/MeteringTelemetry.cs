using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace StitchFin.Metering;

/// <summary>The metering service's traces and metrics (exported by ServiceDefaults under <c>StitchFin.*</c>).</summary>
public sealed class MeteringTelemetry
{
    public const string Name = "StitchFin.Metering";
    public const string EventsConsumed = "metering.events.consumed";
    public const string DuplicatesSkipped = "metering.events.duplicates_skipped";
    public const string EventLag = "metering.events.lag";

    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _consumed;
    private readonly Counter<long> _duplicates;
    private readonly Histogram<double> _lag;

    public MeteringTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _consumed = meter.CreateCounter<long>(EventsConsumed, "{event}", "MessageCompleted events counted into the usage rollups.");
        _duplicates = meter.CreateCounter<long>(DuplicatesSkipped, "{event}", "Redelivered MessageCompleted events that were already counted.");
        _lag = meter.CreateHistogram<double>(EventLag, "s", "Time from a message completing (OccurredAt) to its usage being counted.");
    }

    public void Counted(TimeSpan lag)
    {
        _consumed.Add(1);
        _lag.Record(Math.Max(0, lag.TotalSeconds));
    }

    public void SkippedDuplicate() => _duplicates.Add(1);
}
