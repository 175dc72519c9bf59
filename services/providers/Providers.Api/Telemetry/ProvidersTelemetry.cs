using System.Diagnostics;
using System.Diagnostics.Metrics;
using Polly.CircuitBreaker;

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
    private readonly Histogram<double> _attemptDuration;
    private readonly Meter _meter;

    public ProvidersTelemetry(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(Name);
        _attempts = _meter.CreateCounter<long>("stitchfin.providers.attempts", "{attempt}", "Vendor calls, by vendor and outcome.");
        _failures = _meter.CreateCounter<long>("stitchfin.providers.failures", "{failure}", "Times a vendor's pipeline gave up, by vendor and reason.");
        _fallbacks = _meter.CreateCounter<long>("stitchfin.providers.fallbacks", "{fallback}", "Completions handed from the primary to the fallback provider.");
        _circuitTransitions = _meter.CreateCounter<long>("stitchfin.providers.circuit.transitions", "{transition}", "Circuit breaker state changes, by vendor and new state.");
        _attemptDuration = _meter.CreateHistogram<double>("stitchfin.providers.attempt.duration", "ms", "Vendor call latency as the caller saw it.");
    }

    public Activity? StartAttempt(string vendor)
    {
        var activity = Source.StartActivity("provider.attempt", ActivityKind.Client);
        activity?.SetTag("vendor", vendor);
        return activity;
    }

    public void AttemptFinished(Activity? activity, string vendor, string outcome, int? status, double elapsedMs)
    {
        if (activity is not null)
        {
            activity.SetTag("outcome", outcome);
            activity.SetTag("status", status);
            if (outcome != Contracts.Providers.AttemptOutcomes.Ok)
            {
                activity.SetStatus(ActivityStatusCode.Error, outcome);
            }
        }

        var tags = new TagList { { "vendor", vendor }, { "outcome", outcome } };
        _attempts.Add(1, tags);
        _attemptDuration.Record(elapsedMs, tags);
    }

    public void ProviderFailed(string vendor, string reason) =>
        _failures.Add(1, new TagList { { "vendor", vendor }, { "reason", reason } });

    public void FallbackUsed(string from, string to) =>
        _fallbacks.Add(1, new TagList { { "from", from }, { "to", to } });

    public void CircuitChanged(string vendor, CircuitState state) =>
        _circuitTransitions.Add(1, new TagList { { "vendor", vendor }, { "state", CircuitStateName(state) } });

    /// <summary>0 closed, 1 open, 2 half-open, 3 isolated (Polly's numbering).</summary>
    public void ObserveCircuits(Func<IEnumerable<(string Vendor, CircuitState State)>> circuits) =>
        _meter.CreateObservableGauge(
            "stitchfin.providers.circuit.state",
            () => circuits().Select(c => new Measurement<int>((int)c.State, new KeyValuePair<string, object?>("vendor", c.Vendor))),
            "{state}",
            "Circuit breaker state per vendor: 0 closed, 1 open, 2 half-open, 3 isolated.");

    public static string CircuitStateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        CircuitState.Isolated => "isolated",
        _ => state.ToString().ToLowerInvariant(),
    };
}
