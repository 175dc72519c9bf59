using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.ServiceDefaults.OpenAi;

namespace StitchFin.Providers.Upstreams;

/// <summary>One provider and the model to ask it for.</summary>
public sealed record Target(ProviderEntry Provider, string Model)
{
    public override string ToString() => $"{Provider.Name}/{Model}";
}

/// <summary>
/// What an upstream is asked: the agent's system prompt, then the conversation's turns (<see cref="UserContent"/> is
/// the same conversation as one text, for counting), the tools the model may call and how to generate.
/// </summary>
public sealed record NormalizedRequest(
    string SystemPrompt, string UserContent, IReadOnlyList<ChatTurn> Turns, IReadOnlyList<ToolDefinition>? Tools = null, GenerationOptions? Options = null)
{
    public NormalizedRequest(string systemPrompt, string userContent)
        : this(systemPrompt, userContent, [new ChatTurn(ChatRoles.User, userContent)])
    {
    }
}

/// <summary>How long one attempt may wait for its response headers and first token, and then between chunks.</summary>
public sealed record AttemptLimits(TimeSpan FirstToken, TimeSpan Idle);

/// <summary>Receives a reply's text as it arrives (a whole reply in one piece).</summary>
public interface IContentSink
{
    ValueTask OnContentAsync(string model, string text);
}

/// <summary>What the completion engine does after an attempt.</summary>
public enum AttemptDisposition
{
    Succeeded,

    /// <summary>A transient fault: retry this target (within the retry budget), then fail over.</summary>
    Retry,

    /// <summary>This target cannot serve the request (context too long, a wait too long): fail over at once.</summary>
    FailOver,

    /// <summary>The request itself was refused: answer the caller with the upstream's error, no retry, no failover.</summary>
    Reject,
}

/// <summary>
/// How a successful reply ended: the model that answered, why it ended, usage if reported, and the tools it called
/// (its text went to the sink).
/// </summary>
public sealed record UpstreamReply(string? Model, string FinishReason, ChatUsage? Usage, IReadOnlyList<ToolCall>? ToolCalls = null);

/// <summary>The outcome of one attempt, in the vocabulary of <see cref="AttemptOutcomes"/> and <see cref="AttemptReasons"/>.</summary>
public sealed record AttemptResult(
    string Outcome,
    int? Status,
    string? Reason,
    AttemptDisposition Disposition,
    bool TripsBreaker,
    UpstreamReply? Reply = null,
    TimeSpan? RetryAfter = null,
    ChatError? Error = null,
    int MalformedEvents = 0)
{
    /// <summary>Set by the engine when part of the reply already reached the caller: no retry, no failover then.</summary>
    public bool Committed { get; init; }

    public bool Succeeded => Disposition == AttemptDisposition.Succeeded;

    public static AttemptResult Success(int status, UpstreamReply reply, int malformedEvents = 0) =>
        new(AttemptOutcomes.Ok, status, null, AttemptDisposition.Succeeded, false, reply, MalformedEvents: malformedEvents);

    /// <summary>A fault of the upstream (5xx, reset, invalid answer, broken stream): retried, and counted by the breaker.</summary>
    public static AttemptResult Fault(int? status, string reason, int malformedEvents = 0, ChatError? error = null, TimeSpan? retryAfter = null) =>
        new(AttemptOutcomes.Error, status, reason, AttemptDisposition.Retry, true, RetryAfter: retryAfter, Error: error, MalformedEvents: malformedEvents);

    public static AttemptResult TimedOut(string reason, int? status = null, int malformedEvents = 0) =>
        new(AttemptOutcomes.Timeout, status, reason, AttemptDisposition.Retry, true, MalformedEvents: malformedEvents);

    /// <summary>429: retried after the wait it asks for; one tenant's rate limit says nothing about the upstream's health.</summary>
    public static AttemptResult RateLimited(int status, TimeSpan? retryAfter, ChatError? error) =>
        new(AttemptOutcomes.RateLimited, status, AttemptReasons.RateLimited, AttemptDisposition.Retry, false, RetryAfter: retryAfter, Error: error);

    public static AttemptResult FailOver(int? status, string reason, ChatError? error = null) =>
        new(AttemptOutcomes.Error, status, reason, AttemptDisposition.FailOver, false, Error: error);

    public static AttemptResult Rejected(int status, ChatError? error) =>
        new(AttemptOutcomes.Error, status, AttemptReasons.Rejected, AttemptDisposition.Reject, false, Error: error);
}
