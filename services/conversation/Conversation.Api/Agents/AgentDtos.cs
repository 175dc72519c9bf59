namespace StitchFin.Conversation.Agents;

/// <summary>
/// Body of POST and PUT /agents. A null <see cref="SystemPrompt"/> means an empty prompt; a null model means the
/// provider's default model (a simulated vendor needs none).
/// </summary>
public sealed record AgentRequest(
    string? Name,
    string? PrimaryProvider,
    string? FallbackProvider,
    string? SystemPrompt,
    string? PrimaryModel = null,
    string? FallbackModel = null);

public sealed record AgentResponse(
    Guid Id,
    string Name,
    string PrimaryProvider,
    string? PrimaryModel,
    string? FallbackProvider,
    string? FallbackModel,
    string SystemPrompt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
