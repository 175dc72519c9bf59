using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;

namespace StitchFin.Conversation.OpenAi;

/// <summary>
/// Every chat completion is one exchange in a session of its own. The session's id is derived from the tenant,
/// the agent and the idempotency key, so a retry with the same key finds the same session and the exchange's
/// idempotency hash (which includes the session) matches: the retry replays instead of answering 422. The exchange's
/// first statement creates the session when it does not exist yet (<c>ExchangeStartSql</c>).
/// </summary>
public static class ApiSessions
{
    public static Guid SessionId(Guid tenantId, Guid agentId, string idempotencyKey)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"openai-session\n{tenantId:N}\n{agentId:N}\n{idempotencyKey}"), hash);
        var bytes = hash[..16];
        // RFC 9562 version 8 (custom) with the RFC variant bits.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>
    /// After an agent API's exchange, the session it opened goes when nothing was stored in it: for a generated key
    /// (this request's alone) that did not answer, or for a key that belongs to another request (422), unless that
    /// request is still running, for with the same agent and key it runs in this very session and will store into it.
    /// </summary>
    public static Task CleanUpAsync(
        ConversationDbContext db, Guid tenantId, Guid sessionId, string key, bool generatedKey, ExchangeOutcome outcome) =>
        generatedKey && outcome is not (ExchangeOutcome.Answered or ExchangeOutcome.Streamed { Body: not null })
            ? DeleteIfEmptyAsync(db, tenantId, sessionId, CancellationToken.None)
            : outcome is ExchangeOutcome.KeyReused
                ? DeleteStrayAsync(db, tenantId, sessionId, key, CancellationToken.None)
                : Task.CompletedTask;

    private static Task DeleteStrayAsync(ConversationDbContext db, Guid tenantId, Guid sessionId, string key, CancellationToken cancellationToken) =>
        db.Sessions
            .Where(s => s.Id == sessionId && s.TenantId == tenantId && s.MessageCount == 0
                && !db.IdempotencyRecords.Any(r => r.TenantId == tenantId && r.Key == key && r.State == IdempotencyRecord.InFlight))
            .ExecuteDeleteAsync(cancellationToken);

    private static Task DeleteIfEmptyAsync(ConversationDbContext db, Guid tenantId, Guid sessionId, CancellationToken cancellationToken) =>
        db.Sessions.Where(s => s.Id == sessionId && s.TenantId == tenantId && s.MessageCount == 0).ExecuteDeleteAsync(cancellationToken);
}
