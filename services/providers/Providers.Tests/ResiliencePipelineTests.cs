using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Polly.CircuitBreaker;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Telemetry;
using StitchFin.Providers.Tests.Support;
using static StitchFin.Contracts.Providers.AttemptOutcomes;

namespace StitchFin.Providers.Tests;

/// <summary>The completion engine's rules on a fake clock, with scripted upstreams: what is retried, when, and where it fails over.</summary>
public sealed class ResiliencePipelineTests
{
    private const string A = ProviderNames.VendorA;
    private const string B = ProviderNames.VendorB;

    [Fact]
    public async Task Server_error_is_retried_and_the_retry_answers()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.Status(500), harness.A.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.NotNull(outcome.Result);
        Assert.False(outcome.Result.FallbackUsed);
        Assert.Equal((A, "vendor-a"), (outcome.Result.Provider, outcome.Result.Model));
        Assert.Equal([(A, Error, (int?)500), (A, Ok, 200)], Summary(outcome.Result.Attempts));
        Assert.Equal([AttemptReasons.ServerError, null], outcome.Result.Attempts.Select(a => a.Reason));
        Assert.Empty(harness.B.Calls);
    }

    [Fact]
    public async Task Usage_and_cost_come_from_the_upstream_and_the_catalogue_prices()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(harness.A.Ok(tokensOut: 1000));

        var result = (await harness.CompleteAsync(A, null)).Result!;

        Assert.Equal((5, 1000, false), (result.TokensIn, result.TokensOut, result.UsageEstimated));
        Assert.Equal(0.006015m, result.CostUsd); // 5/1000 * 0.0030 + 1000/1000 * 0.0060
        Assert.Equal("stop", result.FinishReason);
    }

    [Fact]
    public async Task Without_reported_usage_tokens_are_counted_and_marked_estimated()
    {
        using var harness = new PipelineHarness();
        harness.B.Then(harness.B.OkWithoutUsage("twelve chars"));

        var result = (await harness.CompleteAsync(B, null)).Result!;

        // "SYSTEM: Be brief.\nUSER: Hello there" is 35 characters: 9 tokens; the 12-character reply is 3.
        Assert.Equal((9, 3, true), (result.TokensIn, result.TokensOut, result.UsageEstimated));
        Assert.Equal(0.00003m, result.CostUsd);
    }

    [Fact]
    public async Task Rate_limited_attempt_waits_at_least_retry_after_before_the_next()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.RateLimited(1_500), harness.A.Ok());

        var outcome = await harness.CompleteAsync(A, null);

        Assert.Equal([(A, RateLimited, (int?)429), (A, Ok, 200)], Summary(outcome.Result!.Attempts));
        Assert.True(harness.A.Calls[1] - harness.A.Calls[0] >= TimeSpan.FromMilliseconds(1_500),
            $"second call came {(harness.A.Calls[1] - harness.A.Calls[0]).TotalMilliseconds} ms after the first");
    }

    [Fact]
    public void Retry_delay_is_exponential_with_jitter_and_honours_retry_after()
    {
        var options = new ResilienceOptions { RetryBaseDelayMs = 200, RetryMaxDelayMs = 2_000 };
        var random = new Randomness.SeededRandom(11);
        for (var retry = 0; retry < 4; retry++)
        {
            var nominal = Math.Min(200 * Math.Pow(2, retry), 2_000);
            var delay = TargetPipelines.RetryDelay(retry, null, options, random).TotalMilliseconds;
            Assert.InRange(delay, nominal * 0.5, Math.Min(nominal * 1.5, 2_000));
        }

        Assert.Equal(TimeSpan.FromSeconds(4), TargetPipelines.RetryDelay(0, TimeSpan.FromSeconds(4), options, random));
    }

    [Fact]
    public async Task Rate_limits_do_not_open_the_circuit()
    {
        var options = new ResilienceOptions { MaxRetries = 0, BreakerFailureRatio = 0.5, BreakerMinimumThroughput = 2 };
        using var harness = new PipelineHarness(options);
        harness.A.Then(ScriptedUpstream.RateLimited(10));

        for (var i = 0; i < 5; i++)
        {
            await harness.CompleteAsync(A, null);
        }

        Assert.Equal(5, harness.A.Calls.Count);
        Assert.Equal(CircuitState.Closed, harness.Pipelines.For(harness.Target(A)).CircuitState);
    }

    [Fact]
    public async Task Circuit_opens_after_the_configured_failures_and_half_opens_after_the_break()
    {
        var options = new ResilienceOptions { MaxRetries = 0, BreakerFailureRatio = 1, BreakerMinimumThroughput = 3, BreakDurationMs = 5_000 };
        using var harness = new PipelineHarness(options);
        harness.A.Then(ScriptedUpstream.Status(500), ScriptedUpstream.Status(500), ScriptedUpstream.Status(500), harness.A.Ok());

        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull((await harness.CompleteAsync(A, null)).Failure);
        }

        Assert.Equal(CircuitState.Open, harness.Pipelines.For(harness.Target(A)).CircuitState);
        var refused = await harness.CompleteAsync(A, null);
        Assert.Equal([new ProviderAttempt(A, Error, null, 0, "vendor-a", AttemptReasons.CircuitOpen)], refused.Failure!.Attempts);
        Assert.Equal(3, harness.A.Calls.Count);

        harness.Time.Advance(TimeSpan.FromMilliseconds(options.BreakDurationMs));
        var probe = await harness.CompleteAsync(A, null);

        Assert.Equal([(A, Ok, (int?)200)], Summary(probe.Result!.Attempts));
        Assert.Equal(4, harness.A.Calls.Count);
        Assert.Equal(CircuitState.Closed, harness.Pipelines.For(harness.Target(A)).CircuitState);
    }

    [Fact]
    public async Task Open_circuit_sends_the_request_to_the_fallback_without_calling_the_primary()
    {
        var options = new ResilienceOptions { MaxRetries = 0, BreakerFailureRatio = 1, BreakerMinimumThroughput = 2 };
        using var harness = new PipelineHarness(options);
        harness.A.Then(ScriptedUpstream.Status(503));
        harness.B.Then(harness.B.Ok());
        await harness.CompleteAsync(A, null);
        await harness.CompleteAsync(A, null);

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Equal(2, harness.A.Calls.Count);
        Assert.True(outcome.Result!.FallbackUsed);
        Assert.Equal([(A, Error, (int?)null), (B, Ok, 200)], Summary(outcome.Result.Attempts));
    }

    [Fact]
    public async Task Fallback_answers_when_the_primary_is_exhausted()
    {
        using var harness = new PipelineHarness();
        using var fallbacks = new MetricCollector<long>(harness.MeterFactory, ProvidersTelemetry.Name, "stitchfin.providers.fallbacks");
        using var attemptsMetric = new MetricCollector<long>(harness.MeterFactory, ProvidersTelemetry.Name, "stitchfin.providers.attempts");
        harness.A.Then(ScriptedUpstream.Status(500));
        harness.B.Then(harness.B.Ok(tokensOut: 77));

        var outcome = await harness.CompleteAsync(A, B);

        var result = outcome.Result!;
        Assert.True(result.FallbackUsed);
        Assert.Equal((B, "vendor-b"), (result.Provider, result.Model));
        Assert.Equal(77, result.TokensOut);
        Assert.Equal([(A, Error, (int?)500), (A, Error, 500), (A, Error, 500), (B, Ok, 200)], Summary(result.Attempts));
        Assert.Equal(1, fallbacks.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(3, attemptsMetric.GetMeasurementSnapshot(clear: false)
            .Where(m => m.ContainsTags(new KeyValuePair<string, object?>("provider", A), new KeyValuePair<string, object?>("outcome", Error)))
            .EvaluateAsCounter());
    }

    [Fact]
    public async Task Both_exhausted_is_a_failure_listing_every_attempt()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.Status(500));
        harness.B.Then(ScriptedUpstream.RateLimited(100));

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Null(outcome.Result);
        Assert.Equal(
            [(A, Error, (int?)500), (A, Error, 500), (A, Error, 500), (B, RateLimited, 429), (B, RateLimited, 429), (B, RateLimited, 429)],
            Summary(outcome.Failure!.Attempts));
        Assert.Equal(CompletionFailureReasons.Exhausted, outcome.Failure.Reason);
        Assert.Contains(A, outcome.Failure.Detail, StringComparison.Ordinal);
        Assert.Contains(B, outcome.Failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_fallback_the_primary_failure_is_the_answer()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.Status(502));

        var outcome = await harness.CompleteAsync(A, null);

        Assert.Equal([(A, Error, (int?)502), (A, Error, 502), (A, Error, 502)], Summary(outcome.Failure!.Attempts));
        Assert.Empty(harness.B.Calls);
    }

    [Theory]
    [InlineData(400, "content_policy_violation")]
    [InlineData(400, null)]
    [InlineData(404, "model_not_found")]
    [InlineData(422, null)]
    public async Task A_refused_request_is_answered_with_the_upstreams_error_without_retry_or_failover(int status, string? code)
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.Status(status, code));
        harness.B.Then(harness.B.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        var failure = outcome.Failure!;
        Assert.Equal([(A, Error, (int?)status)], Summary(failure.Attempts));
        Assert.Equal(CompletionFailureReasons.Rejected, failure.Reason);
        Assert.Equal(status, failure.UpstreamStatus);
        Assert.Equal(code, failure.UpstreamError?.Code);
        Assert.Empty(harness.B.Calls);
    }

    [Fact]
    public async Task Context_length_exceeded_fails_over_at_once_and_is_never_resent_to_the_same_target()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.Status(400, AttemptReasons.ContextLengthExceeded));
        harness.B.Then(harness.B.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Equal([(A, Error, (int?)400), (B, Ok, 200)], Summary(outcome.Result!.Attempts));
        Assert.Equal(AttemptReasons.ContextLengthExceeded, outcome.Result.Attempts[0].Reason);
        Assert.Single(harness.A.Calls);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(409)]
    public async Task Request_timeout_and_conflict_are_retried(int status)
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.Status(status), harness.A.Ok());

        var outcome = await harness.CompleteAsync(A, null);

        Assert.Equal([(A, Error, (int?)status), (A, Ok, 200)], Summary(outcome.Result!.Attempts));
    }

    [Fact]
    public async Task Retry_after_beyond_the_limit_goes_to_the_fallback_at_once()
    {
        using var harness = new PipelineHarness(new ResilienceOptions { MaxRetryAfterMs = 5_000 });
        harness.A.Then(ScriptedUpstream.RateLimited(60_000));
        harness.B.Then(harness.B.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Equal([(A, RateLimited, (int?)429), (B, Ok, 200)], Summary(outcome.Result!.Attempts));
        Assert.Equal(AttemptReasons.RetryAfterTooLong, outcome.Result.Attempts[0].Reason);
        Assert.True(harness.B.Calls[0] - harness.A.Calls[0] < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Overall_deadline_stops_the_primary_and_skips_the_fallback()
    {
        var options = new ResilienceOptions { FirstTokenTimeoutMs = 3_000, DeadlineMs = 5_000, RetryBaseDelayMs = 100, RetryMaxDelayMs = 100 };
        using var harness = new PipelineHarness(options);
        harness.A.Then(harness.A.Slow(10_000));
        harness.B.Then(harness.B.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Equal([(A, AttemptOutcomes.Timeout, (int?)null)], Summary(outcome.Failure!.Attempts));
        Assert.Equal(AttemptReasons.Deadline, outcome.Failure.Attempts[0].Reason);
        Assert.Equal(CompletionFailureReasons.Deadline, outcome.Failure.Reason);
        Assert.Empty(harness.B.Calls);
        Assert.Contains("deadline", outcome.Failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_fails_over_before_its_first_content_reaches_the_caller()
    {
        using var harness = new PipelineHarness(new ResilienceOptions { MaxRetries = 0 });
        harness.A.Then(ScriptedUpstream.CutAfter());
        harness.B.Then(harness.B.Ok(text: "All well here"));
        var stream = new RecordingStream();

        var outcome = await harness.CompleteAsync(A, B, stream);

        Assert.Equal([new Contracts.Providers.StreamStart(B, "vendor-b", true)], stream.Starts);
        Assert.Equal(["All ", "well ", "here"], stream.Deltas);
        Assert.Equal("All well here", outcome.Result!.Text);
        Assert.Equal([(A, Error, (int?)200), (B, Ok, 200)], Summary(outcome.Result.Attempts));
    }

    [Fact]
    public async Task A_stream_that_fails_after_its_first_content_is_neither_retried_nor_failed_over()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedUpstream.CutAfter("Half ", "an "), harness.A.Ok());
        harness.B.Then(harness.B.Ok());
        var stream = new RecordingStream();

        var outcome = await harness.CompleteAsync(A, B, stream);

        Assert.True(outcome.Committed);
        Assert.Equal(CompletionFailureReasons.StreamFailed, outcome.Failure!.Reason);
        Assert.Equal([(A, Error, (int?)200)], Summary(outcome.Failure.Attempts));
        Assert.Equal(AttemptReasons.StreamCut, outcome.Failure.Attempts[0].Reason);
        Assert.Equal(["Half ", "an "], stream.Deltas);
        Assert.Single(harness.A.Calls);
        Assert.Empty(harness.B.Calls);
    }

    private static List<(string Provider, string Outcome, int? Status)> Summary(IEnumerable<ProviderAttempt> attempts) =>
        attempts.Select(a => (a.Provider, a.Outcome, a.Status)).ToList();
}
