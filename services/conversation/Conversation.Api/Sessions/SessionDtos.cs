using StitchFin.Contracts.Conversation;

namespace StitchFin.Conversation.Sessions;

public sealed record CreateSessionRequest(Guid? AgentId);

public sealed record SessionResponse(Guid Id, Guid AgentId, DateTimeOffset CreatedAt, DateTimeOffset? LastMessageAt, int MessageCount);

/// <summary>A page of a transcript; <see cref="HasMore"/>: more messages follow the last one, in the page's order.</summary>
public sealed record TranscriptResponse(Guid SessionId, Guid AgentId, IReadOnlyList<TranscriptMessage> Messages, bool HasMore);
