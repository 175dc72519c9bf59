namespace StitchFin.Contracts.Providers;

/// <summary>Body of the providers service's internal <c>POST /internal/completions</c>.</summary>
public sealed record CompletionRequest(
    string PrimaryProvider,
    string? FallbackProvider,
    string SystemPrompt,
    string UserContent);

/// <summary>200 answer: the first successful attempt's normalized result and every attempt made.</summary>
public sealed record CompletionResult(
    string Provider,
    bool FallbackUsed,
    string Text,
    int TokensIn,
    int TokensOut,
    int LatencyMs,
    IReadOnlyList<ProviderAttempt> Attempts);

/// <summary>502 problem answer: every attempt failed. Read from the problem's <c>attempts</c> extension.</summary>
public sealed record CompletionFailed(string? Detail, IReadOnlyList<ProviderAttempt> Attempts);

public sealed record ProviderAttempt(string Provider, string Outcome, int? Status, int LatencyMs);

public static class AttemptOutcomes
{
    public const string Ok = "ok";
    public const string Error = "error";
    public const string Timeout = "timeout";
    public const string RateLimited = "rate_limited";
}

public static class ProviderNames
{
    public const string VendorA = "VendorA";
    public const string VendorB = "VendorB";
}
