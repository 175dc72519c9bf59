using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using StitchFin.Providers.Randomness;
using StitchFin.Providers.Telemetry;
using StitchFin.Providers.Upstreams;

namespace StitchFin.Providers.Completions;

/// <summary>A target's pipeline and a window onto its circuit.</summary>
public sealed class TargetPipeline(string provider, string model, ResiliencePipeline<AttemptResult> pipeline, CircuitBreakerStateProvider circuit)
{
    public string Provider => provider;

    public string Model => model;

    public ResiliencePipeline<AttemptResult> Pipeline => pipeline;

    public CircuitState CircuitState => circuit.CircuitState;
}

/// <summary>
/// One pipeline per target (provider and model), built on first use and kept, so each circuit breaker sees every
/// request to its target. Order, outermost first: retry, then circuit breaker, so every attempt counts towards the
/// breaker and an open circuit ends the retries at once. Timeouts live in the attempt itself (first token, idle), as a
/// stream's limits re-arm with every chunk.
/// </summary>
public sealed class TargetPipelines
{
    private readonly ConcurrentDictionary<(string Provider, string Model), TargetPipeline> _pipelines = new();
    private readonly ResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly IRandomSource _jitter;
    private readonly ProvidersTelemetry _telemetry;

    public TargetPipelines(
        IOptions<ResilienceOptions> options,
        TimeProvider time,
        [FromKeyedServices(ResilienceOptions.JitterRandomKey)] IRandomSource jitter,
        ProvidersTelemetry telemetry)
    {
        _options = options.Value;
        _time = time;
        _jitter = jitter;
        _telemetry = telemetry;
        telemetry.ObserveCircuits(() => _pipelines.Values.Select(p => (p.Provider, p.Model, p.CircuitState)));
    }

    public IEnumerable<TargetPipeline> All => _pipelines.Values;

    public TargetPipeline For(Target target) =>
        _pipelines.GetOrAdd((target.Provider.Name, target.Model), static (key, self) => self.Build(key.Provider, key.Model), this);

    /// <summary>
    /// Exponential backoff with ±50% jitter, capped, and never shorter than what the upstream asked for.
    /// </summary>
    public static TimeSpan RetryDelay(int retryIndex, TimeSpan? retryAfter, ResilienceOptions options, IRandomSource jitter)
    {
        var exponential = options.RetryBaseDelayMs * Math.Pow(2, retryIndex) * (0.5 + jitter.NextDouble());
        var backoff = TimeSpan.FromMilliseconds(Math.Min(exponential, options.RetryMaxDelayMs));
        return retryAfter is { } asked && asked > backoff ? asked : backoff;
    }

    private TargetPipeline Build(string provider, string model)
    {
        var options = _options;
        var circuit = new CircuitBreakerStateProvider();
        var builder = new ResiliencePipelineBuilder<AttemptResult> { Name = $"{provider}/{model}", TimeProvider = _time };

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<AttemptResult>
            {
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Disposition: AttemptDisposition.Retry, Committed: false }),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(RetryDelay(args.AttemptNumber, args.Outcome.Result?.RetryAfter, options, _jitter)),
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<AttemptResult>
        {
            FailureRatio = options.BreakerFailureRatio,
            MinimumThroughput = options.BreakerMinimumThroughput,
            SamplingDuration = TimeSpan.FromMilliseconds(options.BreakerSamplingDurationMs),
            BreakDuration = TimeSpan.FromMilliseconds(options.BreakDurationMs),
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { TripsBreaker: true }),
            StateProvider = circuit,
            OnOpened = _ => Changed(CircuitState.Open),
            OnHalfOpened = _ => Changed(CircuitState.HalfOpen),
            OnClosed = _ => Changed(CircuitState.Closed),
        });

        return new TargetPipeline(provider, model, builder.Build(), circuit);

        ValueTask Changed(CircuitState state)
        {
            _telemetry.CircuitChanged(provider, model, state);
            return ValueTask.CompletedTask;
        }
    }
}
