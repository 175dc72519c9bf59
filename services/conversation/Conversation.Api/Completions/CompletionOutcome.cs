using StitchFin.Contracts.Providers;

namespace StitchFin.Conversation.Completions;

/// <summary>What one call to the providers service came to.</summary>
public abstract record CompletionOutcome
{
    public sealed record Succeeded(CompletionResult Result) : CompletionOutcome;

    /// <summary>A streamed reply has begun: its first content is ready to relay.</summary>
    public sealed record Streaming(ProviderStream Stream) : CompletionOutcome;

    /// <summary>Every attempt on every target failed (or the deadline passed): nothing was charged.</summary>
    public sealed record AllAttemptsFailed(string? Detail, IReadOnlyList<ProviderAttempt> Attempts) : CompletionOutcome;

    /// <summary>An upstream refused the request itself; its status and error are passed on.</summary>
    public sealed record Rejected(CompletionFailed Failure) : CompletionOutcome;

    /// <summary>The agent names a provider or model the catalogue no longer has.</summary>
    public sealed record TargetNotConfigured(string Detail) : CompletionOutcome;

    /// <summary>Providers could not be reached, timed out, or answered something unexpected.</summary>
    /// <param name="Detail">What the client is told: never an address or an exception's text.</param>
    /// <param name="Cause">What only the log is told (the exception's message).</param>
    public sealed record ProvidersUnavailable(string Detail, string? Cause = null) : CompletionOutcome;
}
