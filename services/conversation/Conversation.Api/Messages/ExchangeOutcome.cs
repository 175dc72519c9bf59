using StitchFin.Contracts.Providers;

namespace StitchFin.Conversation.Messages;

public abstract record ExchangeOutcome
{
    /// <summary>The exchange's serialized response: fresh, or replayed from the idempotency record.</summary>
    public sealed record Answered(int Status, byte[] Body, bool Replayed) : ExchangeOutcome;

    public sealed record SessionNotFound : ExchangeOutcome;

    public sealed record AgentDeleted : ExchangeOutcome;

    public sealed record KeyReused : ExchangeOutcome;

    public sealed record InProgress : ExchangeOutcome;

    public sealed record ProvidersFailed(string? Detail, IReadOnlyList<ProviderAttempt> Attempts) : ExchangeOutcome;

    public sealed record ProvidersUnavailable(string Detail) : ExchangeOutcome;
}
