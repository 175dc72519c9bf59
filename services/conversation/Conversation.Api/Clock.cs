namespace StitchFin.Conversation;

public static class Clock
{
    /// <summary>
    /// Now, cut to whole microseconds: PostgreSQL keeps microseconds, so a time written into a response and the
    /// same time read back from the database serialize identically.
    /// </summary>
    public static DateTimeOffset GetUtcNowMicroseconds(this TimeProvider time)
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMicrosecond));
    }
}
