using StitchFin.Contracts.Conversation;

namespace StitchFin.Conversation.Sessions;

/// <summary>One transcript entry; <see cref="Sequence"/> (1, 2, ...) orders a session's messages.</summary>
public sealed class SessionMessage
{
    public const string UserRole = "user";
    public const string AssistantRole = "assistant";

    public Guid Id { get; init; }
    public Guid TenantId { get; init; }
    public Guid SessionId { get; init; }
    public int Sequence { get; init; }
    public required string Role { get; init; }
    public required string Content { get; init; }
    public required string Channel { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public string? Provider { get; init; }
    public bool? FallbackUsed { get; init; }
    public int? TokensIn { get; init; }
    public int? TokensOut { get; init; }
    public decimal? CostUsd { get; init; }
    public int? LatencyMs { get; init; }

    public TranscriptMessage ToTranscriptMessage() =>
        new(Id, Role, Content, Channel, CreatedAt, Provider, FallbackUsed, TokensIn, TokensOut, CostUsd, LatencyMs);
}
