using System.Text.Json;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

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

    /// <summary>The model that answered, as the provider named it (null for user messages and replies stored before models).</summary>
    public string? Model { get; init; }

    public string? FinishReason { get; init; }

    public bool? UsageEstimated { get; init; }

    /// <summary>Every provider attempt that led to this reply, as JSON.</summary>
    public string? Attempts { get; init; }

    /// <summary>A user message that came as a conversation's turns (tool outputs among them): those turns, as JSON.</summary>
    public string? Input { get; init; }

    /// <summary>The tools an assistant reply called, as JSON.</summary>
    public string? ToolCalls { get; init; }

    /// <summary>Of <see cref="TokensIn"/>, those the upstream reported reading from its prompt cache (null: none reported).</summary>
    public int? CachedTokensIn { get; init; }

    public TranscriptMessage ToTranscriptMessage() =>
        new(Id, Role, Content, Channel, CreatedAt, Provider, FallbackUsed, TokensIn, TokensOut, CostUsd, LatencyMs, Model, FinishReason, UsageEstimated,
            Attempts is null ? null : JsonSerializer.Deserialize<ProviderAttempt[]>(Attempts, JsonDefaults.JsonOptions),
            ToolCalls is null ? null : JsonSerializer.Deserialize<ToolCall[]>(ToolCalls, JsonDefaults.JsonOptions));
}
