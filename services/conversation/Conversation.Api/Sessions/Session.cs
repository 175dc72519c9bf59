using StitchFin.Conversation.Agents;

namespace StitchFin.Conversation.Sessions;

public sealed class Session
{
    public Guid Id { get; init; }
    public Guid TenantId { get; init; }
    public Guid AgentId { get; init; }
    public Agent? Agent { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastMessageAt { get; set; }
    public int MessageCount { get; set; }

    public SessionResponse ToResponse() => new(Id, AgentId, CreatedAt, LastMessageAt, MessageCount);
}
