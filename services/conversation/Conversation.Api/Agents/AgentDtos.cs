namespace StitchFin.Conversation.Agents;

/// <summary>Body of POST and PUT /agents. A null <see cref="SystemPrompt"/> means an empty prompt.</summary>
public sealed record AgentRequest(string? Name, string? PrimaryProvider, string? FallbackProvider, string? SystemPrompt);

public sealed record AgentResponse(
    Guid Id,
    string Name,
    string PrimaryProvider,
    string? FallbackProvider,
    string SystemPrompt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
