using System.Globalization;

namespace StitchFin.Metering.Usage;

/// <summary>An inclusive range of Chicago calendar days, at most <see cref="MaxDays"/> long.</summary>
public sealed record UsageRange(DateOnly From, DateOnly To)
{
    public const int MaxDays = 366;
    private const string DateFormat = "yyyy-MM-dd";

    public int Days => To.DayNumber - From.DayNumber + 1;

    /// <returns>The range, or null with <paramref name="errors"/> keyed by the query parameter at fault.</returns>
    public static UsageRange? Parse(string? from, string? to, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var fromDay = ParseDay("from", from, errors);
        var toDay = ParseDay("to", to, errors);
        if (fromDay is not { } start || toDay is not { } end)
        {
            return null;
        }

        if (start > end)
        {
            errors["to"] = ["'to' must be the same day as 'from' or later."];
            return null;
        }

        var range = new UsageRange(start, end);
        if (range.Days > MaxDays)
        {
            errors["to"] = [$"The range covers {range.Days} days; at most {MaxDays} are allowed."];
            return null;
        }

        return range;
    }

    private static DateOnly? ParseDay(string field, string? value, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors[field] = [$"'{field}' is required, as a calendar date YYYY-MM-DD."];
            return null;
        }

        if (!DateOnly.TryParseExact(value, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            errors[field] = [$"'{value}' is not a calendar date in the form YYYY-MM-DD."];
            return null;
        }

        return day;
    }
}
