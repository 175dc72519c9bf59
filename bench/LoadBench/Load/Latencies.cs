using System.Diagnostics;
using HdrHistogram;

namespace StitchFin.LoadBench.Load;

/// <summary>An HdrHistogram of latencies in microseconds (three significant digits). Not thread-safe: one per worker, then merged.</summary>
public sealed class Latencies
{
    private const long HighestMicroseconds = 300_000_000;
    private readonly LongHistogram _histogram = new(HighestMicroseconds, 3);

    public long Count => _histogram.TotalCount;

    public void Record(TimeSpan latency) =>
        _histogram.RecordValue(Math.Clamp(latency.Ticks / TimeSpan.TicksPerMicrosecond, 0, HighestMicroseconds));

    public void Add(Latencies other) => _histogram.Add(other._histogram);

    public LatencySummary Summarize() => Count == 0
        ? LatencySummary.Empty
        : new LatencySummary(
            Count,
            Milliseconds(_histogram.GetValueAtPercentile(50)),
            Milliseconds(_histogram.GetValueAtPercentile(90)),
            Milliseconds(_histogram.GetValueAtPercentile(99)),
            Milliseconds(_histogram.GetMaxValue()));

    private static double Milliseconds(long microseconds) => microseconds / 1000.0;
}

/// <summary>Percentiles in milliseconds with microsecond precision; NaN when nothing was recorded.</summary>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double Max)
{
    public static readonly LatencySummary Empty = new(0, double.NaN, double.NaN, double.NaN, double.NaN);

    public bool HasData => Count > 0;
}
