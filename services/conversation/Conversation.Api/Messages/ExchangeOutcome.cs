using StitchFin.Contracts.Providers;

namespace StitchFin.Conversation.Messages;

public abstract record ExchangeOutcome
{
    /// <summary>The exchange's serialized response: fresh, or replayed from the idempotency record.</summary>
    public sealed record Answered(int Status, byte[] Body, bool Replayed) : ExchangeOutcome;

    /// <summary>
    /// The reply was streamed to the caller as it came: it ended either stored (<see cref="Body"/>, the same bytes a
    /// whole reply answers) or with an in-band failure (null: nothing stored, nothing charged).
    /// </summary>
    public sealed record Streamed(byte[]? Body) : ExchangeOutcome;

    public sealed record SessionNotFound : ExchangeOutcome;

    public sealed record AgentDeleted : ExchangeOutcome;

    public sealed record KeyReused : ExchangeOutcome;

    public sealed record InProgress : ExchangeOutcome;

    public sealed record ProvidersFailed(string? Detail, IReadOnlyList<ProviderAttempt> Attempts) : ExchangeOutcome;

    /// <summary>The upstream refused the request itself (for example its content policy); nothing was charged.</summary>
    public sealed record ProviderRejected(CompletionFailed Failure) : ExchangeOutcome;

    /// <summary>The agent's provider or model is no longer configured.</summary>
    public sealed record ProviderNotConfigured(string Detail) : ExchangeOutcome;

    public sealed record ProvidersUnavailable(string Detail) : ExchangeOutcome;
}
