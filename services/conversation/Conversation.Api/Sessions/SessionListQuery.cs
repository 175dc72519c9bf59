using System.Globalization;

namespace StitchFin.Conversation.Sessions;

/// <summary>
/// The parsed query of GET /sessions; parsing by hand gives field-level errors instead of a bare 400. A page goes on
/// from the last session of the one before: <see cref="Before"/> its <c>createdAt</c> and <see cref="BeforeId"/> its
/// id, which orders sessions created in the same microsecond.
/// </summary>
public sealed record SessionListQuery(Guid? AgentId, int Limit, DateTimeOffset? Before, Guid? BeforeId = null)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    public static SessionListQuery Parse(string? agentId, string? limit, string? before, string? beforeId, out Dictionary<string, string[]> errors)
    {
        errors = [];
        Guid? agent = null;
        if (agentId is not null)
        {
            if (Guid.TryParse(agentId, out var parsed))
            {
                agent = parsed;
            }
            else
            {
                errors["agentId"] = ["agentId must be a UUID."];
            }
        }

        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"limit must be an integer from 1 to {MaxLimit}."];
        }

        DateTimeOffset? cursor = null;
        if (before is not null)
        {
            if (DateTimeOffset.TryParse(before, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                cursor = parsed.ToUniversalTime();
            }
            else
            {
                errors["before"] = ["before must be an ISO-8601 time such as 2026-11-27T22:30:00Z."];
            }
        }

        Guid? cursorId = null;
        if (beforeId is not null)
        {
            if (before is null)
            {
                errors["beforeId"] = ["beforeId goes with before: the createdAt and id of the last session of the previous page."];
            }
            else if (Guid.TryParse(beforeId, out var parsed))
            {
                cursorId = parsed;
            }
            else
            {
                errors["beforeId"] = ["beforeId must be a UUID."];
            }
        }

        return new SessionListQuery(agent, size, cursor, cursorId);
    }
}
