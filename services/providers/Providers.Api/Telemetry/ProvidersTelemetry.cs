using System.Diagnostics;
using System.Diagnostics.Metrics;
using Polly.CircuitBreaker;
using StitchFin.Providers.Upstreams;

namespace StitchFin.Providers.Telemetry;

/// <summary>The <c>StitchFin.Providers</c> source and meter; the service defaults export both.</summary>
public sealed class ProvidersTelemetry
{
    public const string Name = "StitchFin.Providers";

    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _attempts;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _circuitTransitions;
    private readonly Counter<long> _skippedEvents;
    private readonly Histogram<double> _attemptDuration;
    private readonly Meter _meter;

    public ProvidersTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        _attempts = _meter.CreateCounter<long>("stitchfin.providers.attempts", "{attempt}", "Upstream calls, by provider, model and outcome.");
        _failures = _meter.CreateCounter<long>("stitchfin.providers.failures", "{failure}", "Times a target (provider and model) gave up, by reason.");
        _fallbacks = _meter.CreateCounter<long>("stitchfin.providers.fallbacks", "{fallback}", "Completions handed from one provider to the next.");
        _circuitTransitions = _meter.CreateCounter<long>("stitchfin.providers.circuit.transitions", "{transition}", "Circuit breaker state changes, by provider, model and new state.");
        _skippedEvents = _meter.CreateCounter<long>("stitchfin.providers.stream.skipped_events", "{event}", "Malformed stream events skipped, never forwarded.");
        _attemptDuration = _meter.CreateHistogram<double>("stitchfin.providers.attempt.duration", "ms", "Upstream call latency as the caller saw it.");
    }

    public Activity? StartAttempt(Target target)
    {
        var activity = Source.StartActivity("provider.attempt", ActivityKind.Client);
        activity?.SetTag("provider", target.Provider.Name);
        activity?.SetTag("gen_ai.request.model", target.Model);
        return activity;
    }

    public void AttemptFinished(Activity? activity, Target target, string outcome, int? status, string? reason, double elapsedMs)
    {
        if (activity is not null)
        {
            activity.SetTag("outcome", outcome);
            activity.SetTag("status", status);
            activity.SetTag("reason", reason);
            if (outcome != Contracts.Providers.AttemptOutcomes.Ok)
            {
                activity.SetStatus(ActivityStatusCode.Error, reason ?? outcome);
            }
        }

        var tags = new TagList { { "provider", target.Provider.Name }, { "model", target.Model }, { "outcome", outcome } };
        _attempts.Add(1, tags);
        _attemptDuration.Record(elapsedMs, tags);
    }

    public void TargetFailed(Target target, string reason) =>
        _failures.Add(1, new TagList { { "provider", target.Provider.Name }, { "model", target.Model }, { "reason", reason } });

    public void FallbackUsed(Target from, Target to) =>
        _fallbacks.Add(1, new TagList { { "from", from.Provider.Name }, { "to", to.Provider.Name } });

    public void EventsSkipped(Target target, int count) =>
        _skippedEvents.Add(count, new TagList { { "provider", target.Provider.Name }, { "model", target.Model } });

    public void CircuitChanged(string provider, string model, CircuitState state) =>
        _circuitTransitions.Add(1, new TagList { { "provider", provider }, { "model", model }, { "state", CircuitStateName(state) } });

    /// <summary>0 closed, 1 open, 2 half-open, 3 isolated (Polly's numbering).</summary>
    public void ObserveCircuits(Func<IEnumerable<(string Provider, string Model, CircuitState State)>> circuits) =>
        _meter.CreateObservableGauge(
            "stitchfin.providers.circuit.state",
            () => circuits().Select(c => new Measurement<int>(
                (int)c.State, new KeyValuePair<string, object?>("provider", c.Provider), new KeyValuePair<string, object?>("model", c.Model))),
            "{state}",
            "Circuit breaker state per provider and model: 0 closed, 1 open, 2 half-open, 3 isolated.");

    public static string CircuitStateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        CircuitState.Isolated => "isolated",
        _ => state.ToString().ToLowerInvariant(),
    };
}
