namespace StitchFin.Tenancy.Infrastructure;

public static class Clock
{
    /// <summary>
    /// Now, cut to PostgreSQL's microsecond precision, so the time in a creation response equals the time every later read returns.
    /// </summary>
    public static DateTimeOffset UtcNowInMicroseconds(this TimeProvider time)
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
    }
}
