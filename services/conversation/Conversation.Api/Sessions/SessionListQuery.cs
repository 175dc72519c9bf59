using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Sessions;

/// <summary>
/// The parsed query of GET /sessions: an optional agent and a <see cref="NewestFirstPage"/>. A page goes on from the
/// last session of the one before: <see cref="Before"/> its <c>createdAt</c> and <see cref="BeforeId"/> its id,
/// which orders sessions created in the same microsecond.
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

        var page = NewestFirstPage.Parse(limit, before, beforeId, DefaultLimit, MaxLimit, "sessions", errors);
        return new SessionListQuery(agent, page.Limit, page.Before, page.BeforeId);
    }
}
