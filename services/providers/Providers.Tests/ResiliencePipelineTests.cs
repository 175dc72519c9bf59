using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Polly.CircuitBreaker;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Telemetry;
using StitchFin.Providers.Tests.Support;
using static StitchFin.Contracts.Providers.AttemptOutcomes;

namespace StitchFin.Providers.Tests;

public sealed class ResiliencePipelineTests
{
    private const string A = ProviderNames.VendorA;
    private const string B = ProviderNames.VendorB;

    [Fact]
    public async Task Server_error_is_retried_and_the_retry_answers()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedAdapter.Status(500), harness.A.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.NotNull(outcome.Result);
        Assert.False(outcome.Result.FallbackUsed);
        Assert.Equal(A, outcome.Result.Provider);
        Assert.Equal([(A, Error, (int?)500), (A, Ok, 200)], Summary(outcome.Result.Attempts));
        Assert.Empty(harness.B.Calls);
    }

    [Fact]
    public async Task Rate_limited_attempt_waits_at_least_retry_after_before_the_next()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedAdapter.RateLimited(1_500), harness.A.Ok());

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
            var delay = ProviderPipelines.RetryDelay(retry, null, options, random).TotalMilliseconds;
            Assert.InRange(delay, nominal * 0.5, Math.Min(nominal * 1.5, 2_000));
        }

        Assert.Equal(TimeSpan.FromSeconds(4), ProviderPipelines.RetryDelay(0, TimeSpan.FromSeconds(4), options, random));
    }

    [Fact]
    public async Task Attempt_slower_than_the_timeout_is_cut_and_retried()
    {
        using var harness = new PipelineHarness(new ResilienceOptions { AttemptTimeoutMs = 3_000 });
        harness.A.Then(harness.A.Slow(10_000), harness.A.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        var attempts = outcome.Result!.Attempts;
        Assert.Equal([(A, AttemptOutcomes.Timeout, (int?)null), (A, Ok, 200)], Summary(attempts));
        Assert.InRange(attempts[0].LatencyMs, 3_000, 3_050);
        Assert.False(outcome.Result.FallbackUsed);
    }

    [Fact]
    public async Task Circuit_opens_after_the_configured_failures_and_half_opens_after_the_break()
    {
        var options = new ResilienceOptions { MaxRetries = 0, BreakerFailureRatio = 1, BreakerMinimumThroughput = 3, BreakDurationMs = 5_000 };
        using var harness = new PipelineHarness(options);
        harness.A.Then(ScriptedAdapter.Status(500), ScriptedAdapter.Status(500), ScriptedAdapter.Status(500), harness.A.Ok());

        for (var i = 0; i < 3; i++)
        {
            Assert.NotNull((await harness.CompleteAsync(A, null)).Failure);
        }

        Assert.Equal(CircuitState.Open, harness.Pipelines.For(A).CircuitState);
        var refused = await harness.CompleteAsync(A, null);
        Assert.Equal([new ProviderAttempt(A, Error, null, 0)], refused.Failure!.Attempts);
        Assert.Equal(3, harness.A.Calls.Count);

        harness.Time.Advance(TimeSpan.FromMilliseconds(options.BreakDurationMs));
        var probe = await harness.CompleteAsync(A, null);

        Assert.Equal([(A, Ok, (int?)200)], Summary(probe.Result!.Attempts));
        Assert.Equal(4, harness.A.Calls.Count);
        Assert.Equal(CircuitState.Closed, harness.Pipelines.For(A).CircuitState);
    }

    [Fact]
    public async Task Open_circuit_sends_the_request_to_the_fallback_without_calling_the_primary()
    {
        var options = new ResilienceOptions { MaxRetries = 0, BreakerFailureRatio = 1, BreakerMinimumThroughput = 2 };
        using var harness = new PipelineHarness(options);
        harness.A.Then(ScriptedAdapter.Status(503));
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
        harness.A.Then(ScriptedAdapter.Status(500));
        harness.B.Then(harness.B.Ok(tokensOut: 77));

        var outcome = await harness.CompleteAsync(A, B);

        var result = outcome.Result!;
        Assert.True(result.FallbackUsed);
        Assert.Equal(B, result.Provider);
        Assert.Equal(77, result.TokensOut);
        Assert.Equal([(A, Error, (int?)500), (A, Error, 500), (A, Error, 500), (B, Ok, 200)], Summary(result.Attempts));
        Assert.Equal(1, fallbacks.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(3, attemptsMetric.GetMeasurementSnapshot().Where(m => m.MatchesTags(new KeyValuePair<string, object?>("vendor", A), new KeyValuePair<string, object?>("outcome", Error))).EvaluateAsCounter());
    }

    [Fact]
    public async Task Both_exhausted_is_a_failure_listing_every_attempt()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedAdapter.Status(500));
        harness.B.Then(ScriptedAdapter.RateLimited(100));

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Null(outcome.Result);
        Assert.Equal(
            [(A, Error, (int?)500), (A, Error, 500), (A, Error, 500), (B, RateLimited, 429), (B, RateLimited, 429), (B, RateLimited, 429)],
            Summary(outcome.Failure!.Attempts));
        Assert.Contains(A, outcome.Failure.Detail, StringComparison.Ordinal);
        Assert.Contains(B, outcome.Failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_fallback_the_primary_failure_is_the_answer()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedAdapter.Status(502));

        var outcome = await harness.CompleteAsync(A, null);

        Assert.Equal([(A, Error, (int?)502), (A, Error, 502), (A, Error, 502)], Summary(outcome.Failure!.Attempts));
        Assert.Empty(harness.B.Calls);
    }

    [Fact]
    public async Task Refused_request_is_not_retried()
    {
        using var harness = new PipelineHarness();
        harness.A.Then(ScriptedAdapter.Status(400));
        harness.B.Then(harness.B.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Equal([(A, Error, (int?)400), (B, Ok, 200)], Summary(outcome.Result!.Attempts));
    }

    [Fact]
    public async Task Retry_after_beyond_the_limit_goes_to_the_fallback_at_once()
    {
        using var harness = new PipelineHarness(new ResilienceOptions { MaxRetryAfterMs = 5_000 });
        harness.A.Then(ScriptedAdapter.RateLimited(60_000));
        harness.B.Then(harness.B.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Equal([(A, RateLimited, (int?)429), (B, Ok, 200)], Summary(outcome.Result!.Attempts));
        Assert.True(harness.B.Calls[0] - harness.A.Calls[0] < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Overall_deadline_stops_the_primary_and_skips_the_fallback()
    {
        var options = new ResilienceOptions { AttemptTimeoutMs = 3_000, DeadlineMs = 5_000, RetryBaseDelayMs = 100, RetryMaxDelayMs = 100 };
        using var harness = new PipelineHarness(options);
        harness.A.Then(harness.A.Slow(10_000));
        harness.B.Then(harness.B.Ok());

        var outcome = await harness.CompleteAsync(A, B);

        Assert.Equal([(A, AttemptOutcomes.Timeout, (int?)null), (A, AttemptOutcomes.Timeout, null)], Summary(outcome.Failure!.Attempts));
        Assert.Empty(harness.B.Calls);
        Assert.Contains("deadline", outcome.Failure.Detail, StringComparison.Ordinal);
    }

    private static List<(string Provider, string Outcome, int? Status)> Summary(IEnumerable<ProviderAttempt> attempts) =>
        attempts.Select(a => (a.Provider, a.Outcome, a.Status)).ToList();
}
