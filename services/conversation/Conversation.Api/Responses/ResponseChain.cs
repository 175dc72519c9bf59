using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.Data;
using StitchFin.ServiceDefaults.Data;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Responses;

/// <summary>
/// What a response continues from: its session (a chain of responses is one session), its agent, and the turns of
/// every response before it, oldest first, following <c>previous_response_id</c> (not the session's order, so a chain
/// that forked continues only its own branch).
/// </summary>
public sealed record ResponseChain(Guid SessionId, Guid AgentId, IReadOnlyList<ChatTurn> Turns)
{
    /// <summary>How far back a chain is followed; older turns are left out of what the upstream is sent.</summary>
    public const int MaxDepth = 100;

    private const string Sql = """
        WITH RECURSIVE chain AS (
            SELECT r.id, r.previous_response_id, r.user_message_id, r.session_id, 1 AS depth
            FROM responses r WHERE r.id = $1 AND r.tenant_id = $2 AND r.deleted_at IS NULL
            UNION ALL
            SELECT p.id, p.previous_response_id, p.user_message_id, p.session_id, c.depth + 1
            FROM responses p JOIN chain c ON p.id = c.previous_response_id
            WHERE p.tenant_id = $2 AND c.depth < $3
        )
        SELECT c.session_id, s.agent_id, u.content, u.input, a.content, a.tool_calls
        FROM chain c
        JOIN sessions s ON s.id = c.session_id
        JOIN messages u ON u.id = c.user_message_id
        JOIN messages a ON a.id = c.id
        ORDER BY c.depth DESC
        """;

    /// <returns>The chain ending with the tenant's stored response <paramref name="responseId"/>, or null when there is none.</returns>
    public static Task<ResponseChain?> LoadAsync(ConversationDbContext db, Guid tenantId, Guid responseId, CancellationToken cancellationToken) =>
        db.WithConnectionAsync((tenantId, responseId), static async (connection, state, ct) =>
        {
            await using var command = new NpgsqlCommand(Sql, connection)
            {
                Parameters =
                {
                    new NpgsqlParameter<Guid> { TypedValue = state.responseId, NpgsqlDbType = NpgsqlDbType.Uuid },
                    new NpgsqlParameter<Guid> { TypedValue = state.tenantId, NpgsqlDbType = NpgsqlDbType.Uuid },
                    new NpgsqlParameter<int> { TypedValue = MaxDepth, NpgsqlDbType = NpgsqlDbType.Integer },
                },
            };
            await using var reader = await command.ExecuteReaderAsync(ct);
            var turns = new List<ChatTurn>();
            (Guid Session, Guid Agent)? last = null;
            while (await reader.ReadAsync(ct))
            {
                last = (reader.GetGuid(0), reader.GetGuid(1));
                turns.AddRange(await reader.IsDBNullAsync(3, ct)
                    ? [new ChatTurn(ChatRoles.User, reader.GetString(2))]
                    : JsonSerializer.Deserialize<ChatTurn[]>(reader.GetString(3), JsonDefaults.JsonOptions)!);
                var calls = await reader.IsDBNullAsync(5, ct) ? null : JsonSerializer.Deserialize<ToolCall[]>(reader.GetString(5), JsonDefaults.JsonOptions);
                turns.Add(new ChatTurn(ChatRoles.Assistant, reader.GetString(4), calls));
            }

            return last is { } chain ? new ResponseChain(chain.Session, chain.Agent, turns) : null;
        }, cancellationToken);
}
