using System.Text.Json.Serialization;
using StitchFin.Contracts.Providers;

namespace StitchFin.Contracts.Conversation;

/// <summary>The public shape of one exchange (API.md, POST /sessions/{id}/messages); voice reuses it.</summary>
public sealed record MessageExchange(
    TranscriptMessage UserMessage,
    TranscriptMessage AssistantMessage,
    MessageUsage Usage,
    IReadOnlyList<ProviderAttempt> Attempts);

public sealed record TranscriptMessage(
    Guid Id,
    string Role,
    string Content,
    string Channel,
    DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Provider = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? FallbackUsed = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TokensIn = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TokensOut = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? CostUsd = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LatencyMs = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FinishReason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? UsageEstimated = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ProviderAttempt>? Attempts = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ToolCall>? ToolCalls = null);

/// <summary>
/// What an exchange cost: the provider and model that answered, tokens (upstream-reported unless estimated; of the
/// input, <see cref="CachedTokensIn"/> read from the upstream's cache) and price.
/// </summary>
public sealed record MessageUsage(
    string Provider,
    int TokensIn,
    int TokensOut,
    decimal CostUsd,
    string? Model = null,
    bool UsageEstimated = false,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int CachedTokensIn = 0);

public static class Channels
{
    public const string Text = "text";
    public const string Voice = "voice";
    public const string Api = "api";
}
