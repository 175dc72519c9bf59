using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Adapters;
using StitchFin.Providers.Randomness;
using StitchFin.Providers.Telemetry;

namespace StitchFin.Providers.Completions;

/// <summary>A vendor's pipeline and a window onto its circuit.</summary>
public sealed class ProviderPipeline(string name, ResiliencePipeline<ProviderCallResult> pipeline, CircuitBreakerStateProvider circuit)
{
    public string Name => name;

    public ResiliencePipeline<ProviderCallResult> Pipeline => pipeline;

    public CircuitState CircuitState => circuit.CircuitState;
}

/// <summary>
/// One pipeline per provider, built once, so each circuit breaker sees every request to its vendor.
/// Order, outermost first: retry, circuit breaker, per-attempt timeout. Each attempt therefore counts
/// towards the breaker, and an open circuit ends the retries at once.
/// </summary>
public sealed class ProviderPipelines
{
    private readonly Dictionary<string, ProviderPipeline> _pipelines;

    public ProviderPipelines(
        ProviderCatalog catalog,
        IOptions<ResilienceOptions> options,
        TimeProvider time,
        [FromKeyedServices(ResilienceOptions.JitterRandomKey)] IRandomSource jitter,
        ProvidersTelemetry telemetry)
    {
        var settings = options.Value;
        _pipelines = catalog.Names.ToDictionary(name => name, name => Build(name, settings, time, jitter, telemetry), StringComparer.Ordinal);
        telemetry.ObserveCircuits(() => _pipelines.Values.Select(p => (p.Name, p.CircuitState)));
    }

    public IEnumerable<ProviderPipeline> All => _pipelines.Values;

    public ProviderPipeline For(string provider) => _pipelines[provider];

    /// <summary>
    /// Exponential backoff with ±50% jitter, capped, and never shorter than what a rate-limiting vendor asked for.
    /// </summary>
    public static TimeSpan RetryDelay(int retryIndex, TimeSpan? retryAfter, ResilienceOptions options, IRandomSource jitter)
    {
        var exponential = options.RetryBaseDelayMs * Math.Pow(2, retryIndex) * (0.5 + jitter.NextDouble());
        var backoff = TimeSpan.FromMilliseconds(Math.Min(exponential, options.RetryMaxDelayMs));
        return retryAfter is { } asked && asked > backoff ? asked : backoff;
    }

    private static ProviderPipeline Build(string name, ResilienceOptions options, TimeProvider time, IRandomSource jitter, ProvidersTelemetry telemetry)
    {
        var circuit = new CircuitBreakerStateProvider();
        var builder = new ResiliencePipelineBuilder<ProviderCallResult> { Name = name, TimeProvider = time };

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<ProviderCallResult>
            {
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(IsRetryable(args.Outcome, options)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(RetryDelay(args.AttemptNumber, args.Outcome.Result?.RetryAfter, options, jitter)),
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<ProviderCallResult>
        {
            FailureRatio = options.BreakerFailureRatio,
            MinimumThroughput = options.BreakerMinimumThroughput,
            SamplingDuration = TimeSpan.FromMilliseconds(options.BreakerSamplingDurationMs),
            BreakDuration = TimeSpan.FromMilliseconds(options.BreakDurationMs),
            ShouldHandle = args => ValueTask.FromResult(IsVendorFault(args.Outcome)),
            StateProvider = circuit,
            OnOpened = _ => Changed(CircuitState.Open),
            OnHalfOpened = _ => Changed(CircuitState.HalfOpen),
            OnClosed = _ => Changed(CircuitState.Closed),
        });

        builder.AddTimeout(TimeSpan.FromMilliseconds(options.AttemptTimeoutMs));
        return new ProviderPipeline(name, builder.Build(), circuit);

        ValueTask Changed(CircuitState state)
        {
            telemetry.CircuitChanged(name, state);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Faults that say the vendor is unwell, as opposed to a request it refused: these trip the breaker.</summary>
    private static bool IsVendorFault(Outcome<ProviderCallResult> outcome) =>
        outcome.Exception is TimeoutRejectedException || outcome.Result is { Succeeded: false, Retryable: true };

    private static bool IsRetryable(Outcome<ProviderCallResult> outcome, ResilienceOptions options) =>
        IsVendorFault(outcome)
        && !(outcome.Result is { Outcome: AttemptOutcomes.RateLimited, RetryAfter: { } asked }
             && asked > TimeSpan.FromMilliseconds(options.MaxRetryAfterMs));
}
