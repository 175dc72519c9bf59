using CsCheck;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Tests;

public sealed class ChicagoCalendarTests
{
    [Theory]
    [InlineData("2026-01-15T05:59:59Z", "2026-01-14")]
    [InlineData("2026-01-15T06:00:00Z", "2026-01-15")]
    [InlineData("2026-03-08T05:59:59Z", "2026-03-07")]
    [InlineData("2026-03-08T06:00:00Z", "2026-03-08")]
    [InlineData("2026-03-09T04:59:59Z", "2026-03-08")]
    [InlineData("2026-03-09T05:00:00Z", "2026-03-09")]
    [InlineData("2026-11-01T04:59:59Z", "2026-10-31")]
    [InlineData("2026-11-01T06:30:00Z", "2026-11-01")]
    [InlineData("2026-11-01T07:30:00Z", "2026-11-01")]
    [InlineData("2026-11-02T05:59:59Z", "2026-11-01")]
    [InlineData("2026-11-02T06:00:00Z", "2026-11-02")]
    [InlineData("2026-07-04T23:30:00-05:00", "2026-07-04")]
    public void DayOf_uses_Chicago_wall_clock(string instant, string expectedDay)
    {
        Assert.Equal(DateOnly.Parse(expectedDay), ChicagoCalendar.DayOf(DateTimeOffset.Parse(instant)));
    }

    [Theory]
    [InlineData("2026-03-08", 23)]
    [InlineData("2026-11-01", 25)]
    [InlineData("2026-03-07", 24)]
    [InlineData("2026-11-02", 24)]
    [InlineData("2025-03-09", 23)]
    [InlineData("2025-11-02", 25)]
    public void Daylight_saving_days_are_23_or_25_hours(string day, int hours)
    {
        Assert.Equal(TimeSpan.FromHours(hours), ChicagoCalendar.LengthOf(DateOnly.Parse(day)));
    }

    [Fact]
    public void StartOf_is_local_midnight_in_standard_and_daylight_time()
    {
        Assert.Equal(DateTimeOffset.Parse("2026-01-15T06:00:00Z"), ChicagoCalendar.StartOf(new DateOnly(2026, 1, 15)));
        Assert.Equal(DateTimeOffset.Parse("2026-07-04T05:00:00Z"), ChicagoCalendar.StartOf(new DateOnly(2026, 7, 4)));
    }

    [Fact]
    public void Every_instant_falls_inside_the_bounds_of_its_day()
    {
        var from = DateTimeOffset.Parse("2000-01-01T00:00:00Z").UtcTicks;
        var to = DateTimeOffset.Parse("2040-01-01T00:00:00Z").UtcTicks;
        Gen.Long[from, to].Sample(
            ticks =>
            {
                var instant = new DateTimeOffset(ticks, TimeSpan.Zero);
                var day = ChicagoCalendar.DayOf(instant);
                Assert.InRange(instant, ChicagoCalendar.StartOf(day), ChicagoCalendar.StartOf(day.AddDays(1)).AddTicks(-1));
                Assert.Contains(ChicagoCalendar.LengthOf(day).TotalHours, new[] { 23d, 24d, 25d });
            },
            seed: new PCG(7, 20260308).ToString(),
            iter: 20_000,
            threads: 1);
    }

    [Fact]
    public void A_year_has_exactly_one_short_and_one_long_day()
    {
        for (var year = 2020; year <= 2035; year++)
        {
            var lengths = Enumerable.Range(0, DateTime.IsLeapYear(year) ? 366 : 365)
                .Select(offset => ChicagoCalendar.LengthOf(new DateOnly(year, 1, 1).AddDays(offset)).TotalHours)
                .ToList();
            Assert.Equal(1, lengths.Count(h => h == 23));
            Assert.Equal(1, lengths.Count(h => h == 25));
            Assert.All(lengths, h => Assert.Contains(h, new[] { 23d, 24d, 25d }));
        }
    }
}
