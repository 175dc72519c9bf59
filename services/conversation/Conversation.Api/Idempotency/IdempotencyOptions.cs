namespace StitchFin.Conversation.Idempotency;

public sealed class IdempotencyOptions
{
    public const string SectionName = "Idempotency";

    /// <summary>How long a key and its stored response are kept (API.md promises at least 24 hours).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long an in-flight claim is honoured without renewal: the process working on it renews it every
    /// <see cref="RenewEvery"/>, so this is how soon a key left by a dead process can be retried.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often held claims are renewed; well under <see cref="Lease"/>, so one late renewal loses nothing.</summary>
    public TimeSpan RenewEvery { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often expired records are deleted.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>What a request that meets an in-flight claim is told to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}
