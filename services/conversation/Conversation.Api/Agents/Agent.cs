namespace StitchFin.Conversation.Agents;

public sealed class Agent
{
    public Guid Id { get; init; }
    public Guid TenantId { get; init; }
    public required string Name { get; set; }
    public required string PrimaryProvider { get; set; }

    /// <summary>Null: the provider's default model (agents made before models existed have none).</summary>
    public string? PrimaryModel { get; set; }

    public string? FallbackProvider { get; set; }
    public string? FallbackModel { get; set; }
    public required string SystemPrompt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Soft delete: the agent disappears from the API, its sessions and transcripts stay.</summary>
    public DateTimeOffset? DeletedAt { get; set; }

    public AgentResponse ToResponse() => new(Id, Name, PrimaryProvider, PrimaryModel, FallbackProvider, FallbackModel, SystemPrompt, CreatedAt, UpdatedAt);
}
