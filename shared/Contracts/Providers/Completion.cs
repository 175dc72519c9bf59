using System.Text.Json;
using System.Text.Json.Serialization;

namespace StitchFin.Contracts.Providers;

/// <summary>
/// Body of the providers service's internal <c>POST /internal/completions</c>. A null model means the provider's
/// default model. <see cref="UserContent"/> is the conversation as one text (what the simulated vendors quote and
/// count); <see cref="Turns"/>, when given, is the conversation as the upstream gets it after the system prompt
/// (else one user turn of <see cref="UserContent"/>). With <c>Accept: text/event-stream</c> the answer streams (see
/// <see cref="CompletionStreamEvents"/>).
/// </summary>
public sealed record CompletionRequest(
    string PrimaryProvider,
    string? FallbackProvider,
    string SystemPrompt,
    string UserContent,
    string? PrimaryModel = null,
    string? FallbackModel = null,
    IReadOnlyList<ChatTurn>? Turns = null,
    IReadOnlyList<ToolDefinition>? Tools = null,
    GenerationOptions? Options = null);

/// <summary>
/// One turn of a conversation: a user's text, the assistant's text and the tools it called, a tool's output for one
/// call (<see cref="ToolCallId"/>), or further instructions (<c>system</c>).
/// </summary>
public sealed record ChatTurn(
    string Role,
    string Text,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ToolCall>? ToolCalls = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ToolCallId = null);

public static class ChatRoles
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Tool = "tool";
}

/// <summary>A function the model asked to call, with its arguments as a JSON text.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>A function the model may call: its name, what it does and the JSON schema of its arguments.</summary>
public sealed record ToolDefinition(string Name, string? Description, JsonElement? Parameters);

/// <summary>How a reply is generated: limits and sampling the request asked for, and which tools it may or must call.</summary>
public sealed record GenerationOptions(
    int? MaxOutputTokens = null,
    double? Temperature = null,
    double? TopP = null,
    IReadOnlyList<string>? Stop = null,
    ToolChoice? ToolChoice = null);

/// <summary><c>auto</c>, <c>none</c>, <c>required</c> (any tool), or <c>function</c> with the one function's name.</summary>
public sealed record ToolChoice(string Mode, string? Name = null)
{
    public const string Auto = "auto";
    public const string None = "none";
    public const string Required = "required";
    public const string Function = "function";
}

/// <summary>
/// 200 answer (or the <c>completed</c> event of a stream): the reply of the target that answered, its usage and cost
/// as priced by the provider catalogue, and every attempt made. <see cref="UsageEstimated"/> is true when the
/// upstream reported no usage and the tokens were counted as the simulated vendors count them;
/// <see cref="CachedTokensIn"/> are the part of <see cref="TokensIn"/> the upstream reported reading from its cache.
/// </summary>
public sealed record CompletionResult(
    string Provider,
    string Model,
    bool FallbackUsed,
    string Text,
    int TokensIn,
    int TokensOut,
    bool UsageEstimated,
    decimal CostUsd,
    string FinishReason,
    int LatencyMs,
    IReadOnlyList<ProviderAttempt> Attempts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ToolCall>? ToolCalls = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int CachedTokensIn = 0);

/// <summary>
/// A completion that did not succeed: a problem answer's extensions, or the <c>failed</c> event of a stream.
/// <see cref="Reason"/> is one of <see cref="CompletionFailureReasons"/>; for <c>rejected</c>,
/// <see cref="UpstreamStatus"/> and <see cref="UpstreamError"/> carry the upstream's own answer.
/// </summary>
public sealed record CompletionFailed(
    string? Detail,
    IReadOnlyList<ProviderAttempt> Attempts,
    string? Reason = null,
    int? UpstreamStatus = null,
    UpstreamError? UpstreamError = null);

/// <summary>An upstream's error object, as OpenAI-compatible APIs write it.</summary>
public sealed record UpstreamError(string Message, string? Type, string? Code, string? Param);

/// <summary>
/// One call to one target (provider and model). <see cref="Reason"/> says why a failed attempt failed;
/// <see cref="SkippedEvents"/> counts malformed stream events that were skipped, never forwarded.
/// </summary>
public sealed record ProviderAttempt(
    string Provider,
    string Outcome,
    int? Status,
    int LatencyMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int SkippedEvents = 0);

public static class AttemptOutcomes
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string RateLimited = "rate_limited";
}

/// <summary>Why an attempt failed, beyond its outcome and status.</summary>
public static class AttemptReasons
{
    public const string ServerError = "server_error";
    public const string RateLimited = "rate_limited";
    public const string RetryAfterTooLong = "retry_after_too_long";
    public const string ConnectionFailed = "connection_failed";
    public const string FirstTokenTimeout = "first_token_timeout";
    public const string IdleTimeout = "idle_timeout";
    public const string Deadline = "deadline";
    public const string CircuitOpen = "circuit_open";
    public const string ContextLengthExceeded = "context_length_exceeded";
    public const string Rejected = "rejected";
    public const string StreamCut = "stream_cut";
    public const string StreamIncomplete = "stream_incomplete";
    public const string StreamError = "stream_error";
    public const string InvalidResponse = "invalid_response";
}

/// <summary>Why a whole completion failed.</summary>
public static class CompletionFailureReasons
{
    /// <summary>Every target failed (after retries and the fallback): nothing was charged.</summary>
    public const string Exhausted = "exhausted";

    /// <summary>An upstream refused the request itself (a 4xx that retrying or failing over cannot fix).</summary>
    public const string Rejected = "rejected";

    /// <summary>The overall deadline passed.</summary>
    public const string Deadline = "deadline";

    /// <summary>A stream failed after its first content reached the caller; nothing is kept.</summary>
    public const string StreamFailed = "stream_failed";
}

/// <summary>
/// Server-sent events of a streamed completion, in order: one <c>start</c> (the target that answers), then
/// <c>delta</c> events, then exactly one of <c>completed</c> (a <see cref="CompletionResult"/>) or <c>failed</c>
/// (a <see cref="CompletionFailed"/> with reason <c>stream_failed</c>). A stream that ends without either failed.
/// </summary>
public static class CompletionStreamEvents
{
    public const string Start = "start";
    public const string Delta = "delta";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

public sealed record StreamStart(string Provider, string Model, bool FallbackUsed);

public sealed record StreamDelta(string Text);

/// <summary>One entry of <c>GET /providers</c>: never an address or a key.</summary>
public sealed record ProviderInfo(
    string Name,
    string Kind,
    decimal InputPer1KTokens,
    decimal OutputPer1KTokens,
    IReadOnlyList<string> Models,
    string? DefaultModel);

/// <summary>
/// What an upstream speaks: the simulated vendors and <c>openai-compatible</c> upstreams OpenAI's chat completions,
/// <c>openai-responses</c> OpenAI's Responses API, <c>anthropic</c> Anthropic's Messages API.
/// </summary>
public static class ProviderKinds
{
    public const string Simulated = "simulated";
    public const string OpenAiCompatible = "openai-compatible";
    public const string OpenAiResponses = "openai-responses";
    public const string Anthropic = "anthropic";

    /// <summary>The kinds a deployment may configure (<see cref="Simulated"/> is only for the built-in vendors).</summary>
    public static readonly IReadOnlyList<string> Configurable = [OpenAiCompatible, OpenAiResponses, Anthropic];
}

public static class ProviderNames
{
    public const string VendorA = "VendorA";
    public const string VendorB = "VendorB";
}
