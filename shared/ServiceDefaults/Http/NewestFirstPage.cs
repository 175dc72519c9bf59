using System.Globalization;

namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// The query of a list that is newest first, ordered by <c>createdAt</c> then id (as PostgreSQL orders UUIDs), and
/// paged by keyset: at most <see cref="Limit"/> items, going on from the last item of the page before, whose
/// <c>createdAt</c> is <see cref="Before"/> and id <see cref="BeforeId"/>. The pair orders items created in the same
/// microsecond, so a walk skips and repeats none; <see cref="Before"/> alone goes on strictly before that time.
/// A page with fewer than <see cref="Limit"/> items is the last. Parsed by hand so that every bad parameter is a
/// field-level error (a 400 validation problem) instead of a bare 400.
/// </summary>
public sealed record NewestFirstPage(int Limit, DateTimeOffset? Before, Guid? BeforeId)
{
    /// <param name="items">What the list holds, in the plural ("sessions"), for the error messages.</param>
    /// <param name="errors">Receives an entry per bad parameter, keyed by its name.</param>
    public static NewestFirstPage Parse(
        string? limit, string? before, string? beforeId, int defaultLimit, int maxLimit, string items, Dictionary<string, string[]> errors)
    {
        var size = defaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > maxLimit))
        {
            errors["limit"] = [$"limit must be an integer from 1 to {maxLimit}."];
        }

        DateTimeOffset? time = null;
        if (before is not null)
        {
            if (DateTimeOffset.TryParse(before, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                time = parsed.ToUniversalTime();
            }
            else
            {
                errors["before"] = ["before must be an ISO-8601 time such as 2026-11-27T22:30:00Z."];
            }
        }

        Guid? id = null;
        if (beforeId is not null)
        {
            if (before is null)
            {
                errors["beforeId"] = [$"beforeId goes with before: the createdAt and id of the last of the previous page's {items}."];
            }
            else if (Guid.TryParse(beforeId, out var parsed))
            {
                id = parsed;
            }
            else
            {
                errors["beforeId"] = ["beforeId must be a UUID."];
            }
        }

        return new NewestFirstPage(size, time, id);
    }
}
