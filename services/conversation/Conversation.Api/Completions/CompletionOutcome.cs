using StitchFin.Contracts.Providers;

namespace StitchFin.Conversation.Completions;

/// <summary>What one call to the providers service came to.</summary>
public abstract record CompletionOutcome
{
    public sealed record Succeeded(CompletionResult Result) : CompletionOutcome;

    /// <summary>Providers answered 502: every attempt on every vendor failed.</summary>
    public sealed record AllAttemptsFailed(string? Detail, IReadOnlyList<ProviderAttempt> Attempts) : CompletionOutcome;

    /// <summary>Providers could not be reached, timed out, or answered something unexpected.</summary>
    public sealed record ProvidersUnavailable(string Detail) : CompletionOutcome;
}
