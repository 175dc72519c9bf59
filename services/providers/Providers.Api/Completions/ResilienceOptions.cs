using Microsoft.Extensions.Options;

namespace StitchFin.Providers.Completions;

/// <summary>
/// The <c>Resilience</c> section: how long an attempt may wait, how often a target is retried, when its circuit
/// opens, and how long a whole completion (primary and fallback, streamed or not) may take.
/// </summary>
public sealed class ResilienceOptions
{
    public const string SectionName = "Resilience";

    /// <summary>Keyed <see cref="Randomness.IRandomSource"/> used for retry jitter.</summary>
    public const string JitterRandomKey = "Resilience:Jitter";

    /// <summary>Response headers and the first token (a whole reply, when not streamed) must arrive within this.</summary>
    public int FirstTokenTimeoutMs { get; set; } = 10_000;

    /// <summary>Once a stream has begun, the longest silence between two chunks.</summary>
    public int IdleTimeoutMs { get; set; } = 10_000;

    /// <summary>Retries per target (provider and model), so at most 1 + this many attempts each.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry waits about this long (with jitter), doubling each time, capped by <see cref="RetryMaxDelayMs"/>.</summary>
    public int RetryBaseDelayMs { get; set; } = 200;

    public int RetryMaxDelayMs { get; set; } = 2_000;

    /// <summary>An upstream asking to wait longer than this is not retried; the fallback is tried at once.</summary>
    public int MaxRetryAfterMs { get; set; } = 5_000;

    public double BreakerFailureRatio { get; set; } = 0.5;

    public int BreakerMinimumThroughput { get; set; } = 20;

    public int BreakerSamplingDurationMs { get; set; } = 30_000;

    /// <summary>Open time before a probe; under 30 s, so a recovered upstream is tried again within 30 s.</summary>
    public int BreakDurationMs { get; set; } = 15_000;

    /// <summary>The whole completion, primary and fallback together, streamed or not.</summary>
    public int DeadlineMs { get; set; } = 30_000;

    public int? JitterSeed { get; set; }
}

public sealed class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, ResilienceOptions options)
    {
        var errors = new List<string>();
        // Polly's own lower bounds: breaker windows of at least 500 ms, two calls of throughput.
        Require(errors, options.FirstTokenTimeoutMs is >= 10 and <= 600_000, "Resilience:FirstTokenTimeoutMs must be between 10 and 600000.");
        Require(errors, options.IdleTimeoutMs is >= 10 and <= 600_000, "Resilience:IdleTimeoutMs must be between 10 and 600000.");
        Require(errors, options.MaxRetries is >= 0 and <= 10, "Resilience:MaxRetries must be between 0 and 10.");
        Require(errors, options.RetryBaseDelayMs >= 0, "Resilience:RetryBaseDelayMs must not be negative.");
        Require(errors, options.RetryMaxDelayMs >= options.RetryBaseDelayMs, "Resilience:RetryMaxDelayMs must be at least RetryBaseDelayMs.");
        Require(errors, options.MaxRetryAfterMs >= 0, "Resilience:MaxRetryAfterMs must not be negative.");
        Require(errors, options.BreakerFailureRatio is > 0 and <= 1, "Resilience:BreakerFailureRatio must be greater than 0 and at most 1.");
        Require(errors, options.BreakerMinimumThroughput >= 2, "Resilience:BreakerMinimumThroughput must be at least 2.");
        Require(errors, options.BreakerSamplingDurationMs >= 500, "Resilience:BreakerSamplingDurationMs must be at least 500.");
        Require(errors, options.BreakDurationMs >= 500, "Resilience:BreakDurationMs must be at least 500.");
        Require(errors, options.DeadlineMs >= options.FirstTokenTimeoutMs, "Resilience:DeadlineMs must be at least FirstTokenTimeoutMs.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Require(List<string> errors, bool condition, string message)
    {
        if (!condition)
        {
            errors.Add(message);
        }
    }
}
