using StitchFin.Contracts.Conversation;

namespace StitchFin.Conversation.Sessions;

public sealed record CreateSessionRequest(Guid? AgentId);

public sealed record SessionResponse(Guid Id, Guid AgentId, DateTimeOffset CreatedAt, DateTimeOffset? LastMessageAt, int MessageCount);

public sealed record TranscriptResponse(Guid SessionId, Guid AgentId, IReadOnlyList<TranscriptMessage> Messages);
