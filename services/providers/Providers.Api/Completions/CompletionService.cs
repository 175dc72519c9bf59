using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Adapters;
using StitchFin.Providers.Telemetry;

namespace StitchFin.Providers.Completions;

/// <summary>Either the first success with every attempt, or the failure with every attempt.</summary>
public sealed record CompletionOutcome(CompletionResult? Result, CompletionFailed? Failure);

/// <summary>
/// Runs the primary provider's pipeline, then the fallback's, under one overall deadline, recording every
/// attempt (including those an open circuit refused) in the order they happened.
/// </summary>
public sealed class CompletionService(
    IEnumerable<IProviderAdapter> adapters,
    ProviderPipelines pipelines,
    IOptions<ResilienceOptions> options,
    TimeProvider time,
    ProvidersTelemetry telemetry)
{
    private readonly Dictionary<string, IProviderAdapter> _adapters = adapters.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public async Task<CompletionOutcome> CompleteAsync(string primary, string? fallback, NormalizedRequest request, CancellationToken cancellationToken)
    {
        var attempts = new List<ProviderAttempt>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(options.Value.DeadlineMs), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);

        var first = await RunAsync(primary, request, attempts, linked.Token, cancellationToken);
        if (first.Response is { } primaryResponse)
        {
            return Succeeded(primaryResponse, fallbackUsed: false, attempts);
        }

        if (fallback is null || first.Failure == FailureReasons.Deadline)
        {
            return Failed($"{primary}: {Describe(first.Failure)}.", attempts);
        }

        telemetry.FallbackUsed(primary, fallback);
        var second = await RunAsync(fallback, request, attempts, linked.Token, cancellationToken);
        return second.Response is { } fallbackResponse
            ? Succeeded(fallbackResponse, fallbackUsed: true, attempts)
            : Failed($"{primary}: {Describe(first.Failure)}; {fallback}: {Describe(second.Failure)}.", attempts);
    }

    private async Task<ProviderRun> RunAsync(
        string provider, NormalizedRequest request, List<ProviderAttempt> attempts, CancellationToken token, CancellationToken callerToken)
    {
        var state = new AttemptState(this, _adapters[provider], request, attempts);
        string reason;
        try
        {
            var result = await pipelines.For(provider).Pipeline.ExecuteAsync(
                static (state, ct) => state.Service.AttemptAsync(state, ct), state, token);
            if (result.Response is { } response)
            {
                return new ProviderRun(response, null);
            }

            reason = result.Retryable ? FailureReasons.Exhausted : FailureReasons.Refused;
        }
        catch (TimeoutRejectedException)
        {
            reason = FailureReasons.Exhausted;
        }
        catch (BrokenCircuitException)
        {
            // The breaker refused without calling the vendor; the caller still sees that this provider was tried.
            attempts.Add(new ProviderAttempt(provider, AttemptOutcomes.Error, null, 0));
            telemetry.AttemptFinished(null, provider, AttemptOutcomes.Error, null, 0);
            reason = FailureReasons.CircuitOpen;
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            reason = FailureReasons.Deadline;
        }

        telemetry.ProviderFailed(provider, reason);
        return new ProviderRun(null, reason);
    }

    private async ValueTask<ProviderCallResult> AttemptAsync(AttemptState state, CancellationToken cancellationToken)
    {
        var provider = state.Adapter.Name;
        var started = time.GetTimestamp();
        using var activity = telemetry.StartAttempt(provider);
        try
        {
            var result = await state.Adapter.CompleteAsync(state.Request, cancellationToken);
            Record(state.Attempts, activity, provider, result.Outcome, result.Status, started);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The per-attempt timeout or the overall deadline cut this call short.
            Record(state.Attempts, activity, provider, AttemptOutcomes.Timeout, null, started);
            throw;
        }
    }

    private void Record(List<ProviderAttempt> attempts, System.Diagnostics.Activity? activity, string provider, string outcome, int? status, long started)
    {
        var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
        attempts.Add(new ProviderAttempt(provider, outcome, status, (int)Math.Round(elapsed)));
        telemetry.AttemptFinished(activity, provider, outcome, status, elapsed);
    }

    private static CompletionOutcome Succeeded(NormalizedResponse response, bool fallbackUsed, List<ProviderAttempt> attempts) =>
        new(new CompletionResult(response.Provider, fallbackUsed, response.Text, response.TokensIn, response.TokensOut, response.LatencyMs, attempts), null);

    private static CompletionOutcome Failed(string detail, List<ProviderAttempt> attempts) =>
        new(null, new CompletionFailed(detail, attempts));

    private sealed record AttemptState(CompletionService Service, IProviderAdapter Adapter, NormalizedRequest Request, List<ProviderAttempt> Attempts);

    private sealed record ProviderRun(NormalizedResponse? Response, string? Failure);

    private static string Describe(string? reason) => reason switch
    {
        FailureReasons.Exhausted => "failed after retries",
        FailureReasons.Refused => "refused the request",
        FailureReasons.CircuitOpen => "circuit open",
        FailureReasons.Deadline => "the overall deadline passed",
        _ => "failed",
    };

    private static class FailureReasons
    {
        public const string Exhausted = "exhausted";
        public const string Refused = "refused";
        public const string CircuitOpen = "circuit_open";
        public const string Deadline = "deadline";
    }
}
