namespace StitchFin.Conversation.Idempotency;

public abstract record ClaimResult
{
    /// <summary>This request holds the key and must complete or release it.</summary>
    public sealed record Claimed(Guid Token) : ClaimResult;

    /// <summary>The same request already completed: answer its stored response.</summary>
    public sealed record AlreadyCompleted(int Status, byte[] Body) : ClaimResult;

    /// <summary>The same request is still running elsewhere.</summary>
    public sealed record InProgress : ClaimResult;

    /// <summary>The key belongs to a different request.</summary>
    public sealed record KeyReused : ClaimResult;
}
