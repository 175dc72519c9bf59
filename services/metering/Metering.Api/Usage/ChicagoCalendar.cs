namespace StitchFin.Metering.Usage;

/// <summary>
/// Usage is reported in America/Chicago calendar days, so a day is 23 hours on the March daylight-saving change
/// and 25 hours on the November one. Every conversion between instants and those days goes through here.
/// </summary>
public static class ChicagoCalendar
{
    public const string TimeZoneId = "America/Chicago";

    public static TimeZoneInfo TimeZone { get; } = TimeZoneInfo.FindSystemTimeZoneById(TimeZoneId);

    /// <summary>The Chicago calendar day on which <paramref name="instant"/> falls.</summary>
    public static DateOnly DayOf(DateTimeOffset instant) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime);

    /// <summary>
    /// The first instant of <paramref name="day"/>. Chicago changes its clocks at 02:00, so local midnight always
    /// exists exactly once and its offset is unambiguous.
    /// </summary>
    public static DateTimeOffset StartOf(DateOnly day)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return new DateTimeOffset(midnight, TimeZone.GetUtcOffset(midnight));
    }

    /// <summary>How long <paramref name="day"/> lasts: 24 hours, or 23/25 on the daylight-saving changes.</summary>
    public static TimeSpan LengthOf(DateOnly day) => StartOf(day.AddDays(1)) - StartOf(day);
}
