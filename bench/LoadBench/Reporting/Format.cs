using StitchFin.LoadBench.Load;

namespace StitchFin.LoadBench.Reporting;

public static class Format
{
    public const string None = "–";

    /// <summary>Milliseconds with microsecond precision.</summary>
    public static string Ms(double milliseconds) => double.IsNaN(milliseconds) ? None : $"{milliseconds:0.000}";

    /// <summary>A difference in milliseconds, signed so that a negative cost is visible rather than hidden.</summary>
    public static string DeltaMs(double milliseconds) => double.IsNaN(milliseconds) ? None : $"{milliseconds:+0.000;-0.000;0.000} ms";

    public static string Rate(double perSecond) => double.IsNaN(perSecond) ? None : $"{perSecond:0.0}";

    public static string Count(long count) => $"{count:N0}";

    public static string Mb(long kilobytes) => kilobytes < 0 ? None : $"{kilobytes / 1024.0:0.0}";

    public static string Errors(OperationStats stats) => stats.ErrorCount == 0
        ? "0"
        : $"{stats.ErrorCount} ({string.Join(", ", stats.Errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key} ×{e.Value}"))})";

    public static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.#} s";
}
