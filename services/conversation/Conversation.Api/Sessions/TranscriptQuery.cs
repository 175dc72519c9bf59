using System.Globalization;

namespace StitchFin.Conversation.Sessions;

/// <summary>
/// The parsed query of GET /sessions/{id}/transcript. Messages are ordered by their per-session sequence, which no
/// two messages of a session share, so a page that goes on after a message (<see cref="After"/>, the last message of
/// the page before) can skip or repeat none. <see cref="NewestFirst"/> walks from the end, for a view that shows the
/// latest messages first and loads older ones on demand.
/// </summary>
public sealed record TranscriptQuery(int Limit, bool NewestFirst, Guid? After)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 200;

    public static TranscriptQuery Parse(string? limit, string? order, string? after, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"limit must be an integer from 1 to {MaxLimit}."];
        }

        if (order is not (null or "asc" or "desc"))
        {
            errors["order"] = ["order must be asc (oldest first, the default) or desc (newest first)."];
        }

        Guid? cursor = null;
        if (after is not null)
        {
            if (Guid.TryParse(after, out var parsed))
            {
                cursor = parsed;
            }
            else
            {
                errors["after"] = ["after must be the id of the last message of the previous page."];
            }
        }

        return new TranscriptQuery(size, order == "desc", cursor);
    }
}
