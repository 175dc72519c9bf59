using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Telemetry;
using StitchFin.Providers.Upstreams;

namespace StitchFin.Providers.Completions;

/// <summary>Where a streamed completion's committed text goes: the start (once), then every delta.</summary>
public interface ICompletionStream
{
    /// <summary>The target that answers; a delta (or the end) always follows at once, and may carry it in the same packet.</summary>
    ValueTask StartAsync(StreamStart start);

    ValueTask DeltaAsync(string text);
}

/// <summary>
/// Either the success with every attempt, or the failure with every attempt. <see cref="Committed"/>: part of the
/// reply had already been streamed to the caller when the failure happened.
/// </summary>
public sealed record CompletionOutcome(CompletionResult? Result, CompletionFailed? Failure, bool Committed);

/// <summary>
/// Runs the targets in order (the primary, then the fallback) under one overall deadline, each through its own
/// pipeline (retries, circuit breaker), whole or streamed, and records every attempt in the order it happened.
/// A streamed reply commits with its first content: until then a failed attempt is retried or failed over without the
/// caller seeing it; after it, a failure ends the completion (it must never look like a success).
/// </summary>
public sealed partial class CompletionEngine(
    IProviderAdapter adapter,
    TargetPipelines pipelines,
    IOptions<ResilienceOptions> options,
    TimeProvider time,
    ProvidersTelemetry telemetry,
    ILogger<CompletionEngine> logger)
{
    private readonly ResilienceOptions _options = options.Value;

    public async Task<CompletionOutcome> CompleteAsync(
        IReadOnlyList<Target> targets, NormalizedRequest request, ICompletionStream? stream, CancellationToken cancellationToken)
    {
        var attempts = new List<ProviderAttempt>();
        var failures = new List<string>();
        var limits = new AttemptLimits(TimeSpan.FromMilliseconds(_options.FirstTokenTimeoutMs), TimeSpan.FromMilliseconds(_options.IdleTimeoutMs));
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(_options.DeadlineMs), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);

        string reason = CompletionFailureReasons.Exhausted;
        AttemptResult? last = null;
        for (var index = 0; index < targets.Count; index++)
        {
            var target = targets[index];
            if (index > 0)
            {
                telemetry.FallbackUsed(targets[index - 1], target);
            }

            var relay = new Relay(stream, target, fallbackUsed: index > 0);
            var state = new AttemptState(this, target, request, relay, limits, attempts);
            try
            {
                last = await pipelines.For(target).Pipeline.ExecuteAsync(static (state, ct) => state.Engine.AttemptAsync(state, ct), state, linked.Token);
            }
            catch (BrokenCircuitException)
            {
                // The breaker refused without calling the upstream; the caller still sees that this target was tried.
                attempts.Add(new ProviderAttempt(target.Provider.Name, AttemptOutcomes.Error, null, 0, target.Model, AttemptReasons.CircuitOpen));
                telemetry.AttemptFinished(null, target, AttemptOutcomes.Error, null, AttemptReasons.CircuitOpen, 0);
                telemetry.TargetFailed(target, AttemptReasons.CircuitOpen);
                failures.Add($"{target}: circuit open");
                continue;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                telemetry.TargetFailed(target, AttemptReasons.Deadline);
                failures.Add($"{target}: the overall deadline of {_options.DeadlineMs} ms passed");
                if (relay.Committed)
                {
                    // Part of the reply already reached the caller: like every failure after that, a failed stream (its
                    // attempt says why: the deadline).
                    LogStreamFailed(target.Provider.Name, target.Model, AttemptReasons.Deadline);
                    return Failed(CompletionFailureReasons.StreamFailed, failures, attempts, committed: true);
                }

                return Failed(CompletionFailureReasons.Deadline, failures, attempts, committed: false);
            }

            if (last.Succeeded)
            {
                return Succeeded(target, index > 0, request, last, relay, attempts);
            }

            telemetry.TargetFailed(target, last.Reason ?? last.Outcome);
            failures.Add($"{target}: {Describe(last)}");
            if (last.Committed)
            {
                LogStreamFailed(target.Provider.Name, target.Model, last.Reason);
                reason = CompletionFailureReasons.StreamFailed;
                break;
            }

            if (last.Disposition == AttemptDisposition.Reject)
            {
                reason = CompletionFailureReasons.Rejected;
                break;
            }
        }

        var failure = Failed(reason, failures, attempts, last?.Committed ?? false);
        return reason == CompletionFailureReasons.Rejected && last is { Status: { } status }
            ? failure with
            {
                Failure = failure.Failure! with
                {
                    UpstreamStatus = status,
                    UpstreamError = last.Error is { } error ? new UpstreamError(error.Message, error.Type, error.Code, error.Param) : null,
                },
            }
            : failure;
    }

    private async ValueTask<AttemptResult> AttemptAsync(AttemptState state, CancellationToken cancellationToken)
    {
        var target = state.Target;
        var started = time.GetTimestamp();
        using var activity = telemetry.StartAttempt(target);
        state.Relay.BeginAttempt();
        try
        {
            var result = await adapter.SendAsync(target, state.Request, state.Relay, state.Limits, cancellationToken);
            if (!result.Succeeded && state.Relay.Committed)
            {
                result = result with { Committed = true };
            }
            else if (result is { Disposition: AttemptDisposition.Retry, RetryAfter: { } wait } && wait > TimeSpan.FromMilliseconds(_options.MaxRetryAfterMs))
            {
                // Waiting that long would hold the caller; the fallback may answer now.
                result = result with { Disposition = AttemptDisposition.FailOver, Reason = AttemptReasons.RetryAfterTooLong };
            }

            Record(state, activity, result.Outcome, result.Status, result.Reason, started, result.MalformedEvents);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Record(state, activity, AttemptOutcomes.Timeout, null, AttemptReasons.Deadline, started, 0);
            throw;
        }
    }

    private void Record(AttemptState state, Activity? activity, string outcome, int? status, string? reason, long started, int skippedEvents)
    {
        var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
        var target = state.Target;
        state.Attempts.Add(new ProviderAttempt(target.Provider.Name, outcome, status, (int)Math.Round(elapsed), target.Model, reason, skippedEvents));
        telemetry.AttemptFinished(activity, target, outcome, status, reason, elapsed);
        if (skippedEvents > 0)
        {
            telemetry.EventsSkipped(target, skippedEvents);
        }
    }

    private static CompletionOutcome Succeeded(
        Target target, bool fallbackUsed, NormalizedRequest request, AttemptResult result, Relay relay, List<ProviderAttempt> attempts)
    {
        var reply = result.Reply!;
        var text = relay.Text;
        var (tokensIn, tokensOut, estimated) = reply.Usage is { } usage
            ? (usage.PromptTokens, usage.CompletionTokens, false)
            : (TokenCount.EstimatePrompt(request.SystemPrompt, request.UserContent), TokenCount.Estimate(text), true);
        var cost = CostFormula.CostUsd(target.Provider.Price, tokensIn, tokensOut);
        var model = relay.Model ?? reply.Model ?? target.Model;
        return new CompletionOutcome(
            new CompletionResult(target.Provider.Name, model, fallbackUsed, text, tokensIn, tokensOut, estimated, cost, reply.FinishReason,
                attempts[^1].LatencyMs, attempts, reply.ToolCalls, reply.Usage?.CachedPromptTokens ?? 0),
            null,
            false);
    }

    private static CompletionOutcome Failed(string reason, List<string> failures, List<ProviderAttempt> attempts, bool committed) =>
        new(null, new CompletionFailed(string.Join("; ", failures) + ".", attempts, reason), committed);

    private static string Describe(AttemptResult result) => result.Reason switch
    {
        AttemptReasons.Rejected => $"refused the request ({result.Status}{(result.Error is { Code: { } code } ? $" {code}" : "")})",
        AttemptReasons.ContextLengthExceeded => "the context is too long for this model",
        AttemptReasons.RetryAfterTooLong => $"asked to wait {result.RetryAfter!.Value.TotalSeconds:0.#} s",
        _ when result.Committed => $"the stream failed after it began ({result.Reason})",
        _ => $"failed after retries ({result.Reason}{(result.Status is { } status ? $" {status}" : "")})",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "A stream from {Provider}/{Model} failed after its first content ({Reason}); it ends in an error event")]
    private partial void LogStreamFailed(string provider, string model, string? reason);

    private sealed record AttemptState(
        CompletionEngine Engine, Target Target, NormalizedRequest Request, Relay Relay, AttemptLimits Limits, List<ProviderAttempt> Attempts);

    /// <summary>
    /// Collects a target's reply as it arrives. Streaming to a caller, it passes each piece on, and the first commits
    /// the completion to this target; for a whole reply it only collects, so a reply broken off midway is retried or
    /// failed over like any failed attempt, and each attempt starts afresh.
    /// </summary>
    private sealed class Relay(ICompletionStream? stream, Target target, bool fallbackUsed) : IContentSink
    {
        private readonly StringBuilder _text = new();

        public bool Committed { get; private set; }

        public string? Model { get; private set; }

        public string Text => _text.ToString();

        public void BeginAttempt()
        {
            if (!Committed)
            {
                _text.Clear();
                Model = null;
            }
        }

        public async ValueTask OnContentAsync(string model, string text)
        {
            Model ??= model;
            _text.Append(text);
            if (stream is null)
            {
                return;
            }

            if (!Committed)
            {
                Committed = true;
                await stream.StartAsync(new StreamStart(target.Provider.Name, model, fallbackUsed));
            }

            await stream.DeltaAsync(text);
        }
    }
}
