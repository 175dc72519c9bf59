using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Tests.Support;
using StitchFin.Testing.Upstream;

namespace StitchFin.Providers.Tests;

/// <summary>One service and one fault-injecting upstream for the whole class; each test uses its own models (circuits).</summary>
public sealed class UpstreamFaultFixture : IAsyncLifetime
{
    public UpstreamService Service { get; private set; } = null!;

    public async Task InitializeAsync() => Service = await UpstreamService.StartAsync();

    public async Task DisposeAsync() => await Service.DisposeAsync();
}

/// <summary>
/// The real OpenAI-compatible adapter and completion engine, through <c>POST /internal/completions</c>, against a real
/// upstream over loopback that misbehaves on purpose: what the caller gets, what each attempt records, and what the
/// upstream saw (how many requests, how far apart).
/// </summary>
public sealed class UpstreamFaultTests(UpstreamFaultFixture fixture) : IClassFixture<UpstreamFaultFixture>
{
    private const string Up = UpstreamService.Provider;
    private const string SystemPrompt = "Be brief.";
    private const string UserContent = "Hello";

    /// <summary>How long a test waits for something the upstream should see soon; never an upper bound on the service.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Timers run on a coarser clock than the Stopwatch and may seem to fire a few milliseconds early by it; a wait of W
    /// is asserted as at least W minus this.
    /// </summary>
    private static readonly TimeSpan ClockTick = TimeSpan.FromMilliseconds(10);

    private static readonly ProviderPrice Price = new(UpstreamService.InputPer1K, UpstreamService.OutputPer1K);

    private UpstreamService Service => fixture.Service;

    private FaultyUpstream Upstream => fixture.Service.Upstream;

    [Fact]
    public async Task A_whole_reply_is_asked_for_as_a_stream_with_the_key_headers_and_messages_and_priced_from_the_upstreams_usage()
    {
        Upstream.Script("whole-primary", UpstreamStep.Reply("Hi there, friend.", new UpstreamUsage(12, 5), reportedModel: "whole-primary-2025-01-01"));

        var result = await Service.CompleteAsync(Request("whole-primary", "whole-fallback"));

        Assert.Equal((Up, "whole-primary-2025-01-01", false), (result.Provider, result.Model, result.FallbackUsed));
        Assert.Equal(("Hi there, friend.", "stop"), (result.Text, result.FinishReason));
        Assert.Equal((12, 5, false), (result.TokensIn, result.TokensOut, result.UsageEstimated));
        // 12 / 1000 * 0.001 + 5 / 1000 * 0.002
        Assert.Equal(0.000022m, result.CostUsd);
        Assert.Equal(CostFormula.CostUsd(Price, 12, 5), result.CostUsd);
        Assert.Equal(["Up/whole-primary ok 200 -"], result.Attempts.Select(Describe));

        var seen = Assert.Single(Upstream.RequestsFor("whole-primary"));
        Assert.Equal(("POST", "/v1/chat/completions"), (seen.Method, seen.Path));
        Assert.Equal(["replied"], await OutcomesAsync([seen]));
        Assert.Equal($"Bearer {UpstreamService.ApiKey}", seen.Headers["Authorization"]);
        Assert.Equal("gateway", seen.Headers["X-Team"]);
        // Streamed, even for a whole reply: a stream's first token and gaps can be timed, a whole reply is silent until done.
        Assert.Equal("text/event-stream", seen.Headers["Accept"]);
        Assert.Equal([new UpstreamMessage("system", SystemPrompt), new UpstreamMessage("user", UserContent)], seen.Messages);
        Assert.True(seen.Stream);
        Assert.True(seen.IncludeUsage);
        using var body = JsonDocument.Parse(seen.Body);
        Assert.Equal(JsonValueKind.True, body.RootElement.GetProperty("stream").ValueKind);
        Assert.Equal("whole-primary", body.RootElement.GetProperty("model").GetString());
        Assert.Empty(Upstream.RequestsFor("whole-fallback"));
    }

    [Fact]
    public async Task A_streamed_reply_relays_each_delta_and_completes_with_the_usage_of_the_final_chunk()
    {
        Upstream.Script("stream-primary", UpstreamStep.Reply("The quick brown fox", new UpstreamUsage(9, 4), reportedModel: "stream-primary-0613"));

        var stream = await Service.StreamAsync(Request("stream-primary", "stream-fallback"));

        stream.AssertShape(4, CompletionStreamEvents.Completed);
        Assert.Equal(new StreamStart(Up, "stream-primary-0613", false), stream.Start);
        Assert.Equal(["The ", "quick ", "brown ", "fox"], stream.Deltas);
        var result = stream.Completed!;
        Assert.Equal(string.Concat(stream.Deltas), result.Text);
        Assert.Equal((Up, "stream-primary-0613", false, "stop"), (result.Provider, result.Model, result.FallbackUsed, result.FinishReason));
        Assert.Equal((9, 4, false, CostFormula.CostUsd(Price, 9, 4)), (result.TokensIn, result.TokensOut, result.UsageEstimated, result.CostUsd));
        Assert.Equal(["Up/stream-primary ok 200 -"], result.Attempts.Select(Describe));

        var seen = Assert.Single(Upstream.RequestsFor("stream-primary"));
        Assert.True(seen.Stream);
        Assert.True(seen.IncludeUsage);
        Assert.Equal("text/event-stream", seen.Headers["Accept"]);
        Assert.Equal($"Bearer {UpstreamService.ApiKey}", seen.Headers["Authorization"]);
        Assert.Equal("gateway", seen.Headers["X-Team"]);
        Assert.Equal([new UpstreamMessage("system", SystemPrompt), new UpstreamMessage("user", UserContent)], seen.Messages);
        // Role chunk, four words, finish, usage, [DONE].
        Assert.Equal(8, seen.ChunkSentAt.Count);
        Assert.Empty(Upstream.RequestsFor("stream-fallback"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Without_reported_usage_the_tokens_are_estimated_at_four_characters_each(bool streamed)
    {
        var model = streamed ? "nousage-stream" : "nousage-whole";
        const string Text = "One two three four five";
        Upstream.Script(model, UpstreamStep.Reply(Text, omitUsage: true));

        var result = streamed
            ? (await Service.StreamAsync(Request(model, model + "-fallback"))).Completed!
            : await Service.CompleteAsync(Request(model, model + "-fallback"));

        Assert.Equal(Text, result.Text);
        Assert.True(result.UsageEstimated);
        // What the upstream would have been sent as one prompt, a token per four characters rounded up.
        var tokensIn = (int)Math.Ceiling($"SYSTEM: {SystemPrompt}\nUSER: {UserContent}".Length / 4.0);
        var tokensOut = (int)Math.Ceiling(Text.Length / 4.0);
        Assert.Equal((8, 6), (tokensIn, tokensOut));
        Assert.Equal((tokensIn, tokensOut), (result.TokensIn, result.TokensOut));
        Assert.Equal(CostFormula.CostUsd(Price, tokensIn, tokensOut), result.CostUsd);
        Assert.Equal([$"Up/{model} ok 200 -"], result.Attempts.Select(Describe));
        var seen = Assert.Single(Upstream.RequestsFor(model));
        Assert.True(seen.Stream && seen.IncludeUsage);
    }

    [Fact]
    public async Task A_provider_that_cannot_stream_is_asked_for_whole_replies_and_a_stream_gets_the_reply_in_one_piece()
    {
        Upstream.Script("whole-only", UpstreamStep.Reply("All at once, please.", new UpstreamUsage(9, 4)));
        var request = new CompletionRequest(UpstreamService.WholeProvider, null, SystemPrompt, UserContent, "whole-only");

        var whole = await Service.CompleteAsync(request);
        var streamed = await Service.StreamAsync(request);

        Assert.Equal(("All at once, please.", 9, 4), (whole.Text, whole.TokensIn, whole.TokensOut));
        Assert.Equal(["All at once, please."], streamed.Deltas);
        Assert.Equal("All at once, please.", streamed.Completed!.Text);
        Assert.All(Upstream.RequestsFor("whole-only"), seen =>
        {
            Assert.False(seen.Stream);
            Assert.Equal("application/json", seen.Headers["Accept"]);
        });
    }

    [Fact]
    public async Task A_whole_reply_whose_upstream_stream_breaks_off_is_retried_and_the_caller_never_sees_the_broken_one()
    {
        Upstream.Script("whole-cut", UpstreamStep.CutAfter(2, "Broken reply here"), UpstreamStep.Reply("Complete reply."));

        var result = await Service.CompleteAsync(Request("whole-cut", "whole-cut-fallback"));

        Assert.Equal("Complete reply.", result.Text);
        Assert.Equal(["Up/whole-cut error 200 stream_cut", "Up/whole-cut ok 200 -"], result.Attempts.Select(Describe));
        Assert.Equal(2, Upstream.RequestsFor("whole-cut").Count);
    }

    [Fact]
    public async Task A_429_with_retry_after_in_seconds_is_retried_after_that_wait()
    {
        Upstream.Script("ra-seconds", UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(1)), UpstreamStep.Reply("Waited."));

        var result = await Service.CompleteAsync(Request("ra-seconds", "ra-seconds-fallback"));

        Assert.Equal(("Waited.", "ra-seconds", false), (result.Text, result.Model, result.FallbackUsed));
        Assert.Equal(["Up/ra-seconds rate_limited 429 rate_limited", "Up/ra-seconds ok 200 -"], result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor("ra-seconds");
        Assert.Equal(2, seen.Count);
        AssertGapAtLeast(TimeSpan.FromSeconds(1), seen[0], seen[1]);
        Assert.Empty(Upstream.RequestsFor("ra-seconds-fallback"));
    }

    [Fact]
    public async Task A_429_with_retry_after_as_an_http_date_is_retried_no_earlier_than_that_date()
    {
        // An HTTP date has whole seconds: three seconds ahead is more than two ahead once truncated, and at most three.
        var scriptedAt = (Wall: DateTimeOffset.UtcNow, Ticks: Stopwatch.GetTimestamp());
        var until = scriptedAt.Wall.AddSeconds(3);
        Upstream.Script("ra-date", UpstreamStep.RateLimited(retryAfterDate: until), UpstreamStep.Reply("Waited for the date."));

        var result = await Service.CompleteAsync(Request("ra-date", "ra-date-fallback"));

        Assert.Equal(("Waited for the date.", false), (result.Text, result.FallbackUsed));
        Assert.Equal(["Up/ra-date rate_limited 429 rate_limited", "Up/ra-date ok 200 -"], result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor("ra-date");
        Assert.Equal(2, seen.Count);
        var retriedAt = scriptedAt.Wall + Stopwatch.GetElapsedTime(scriptedAt.Ticks, seen[1].ReceivedAt);
        var date = DateTimeOffset.FromUnixTimeSeconds(until.ToUnixTimeSeconds());
        // The date is the sound check: a gap from the first arrival would shrink by however late that one arrived.
        Assert.True(retriedAt >= date - ClockTick, $"retried at {retriedAt:O}, before the date {date:O}");
        Assert.Empty(Upstream.RequestsFor("ra-date-fallback"));
    }

    [Fact]
    public async Task A_429_with_retry_after_ms_in_the_body_is_retried_after_that_wait()
    {
        Upstream.Script("ra-body", UpstreamStep.RateLimited(retryAfterMs: 700), UpstreamStep.Reply("Waited for the body."));

        var result = await Service.CompleteAsync(Request("ra-body", "ra-body-fallback"));

        Assert.Equal(("Waited for the body.", false), (result.Text, result.FallbackUsed));
        Assert.Equal(["Up/ra-body rate_limited 429 rate_limited", "Up/ra-body ok 200 -"], result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor("ra-body");
        Assert.Equal(2, seen.Count);
        // Far beyond the backoff (at most 50 ms): the wait came from the body.
        AssertGapAtLeast(TimeSpan.FromMilliseconds(700), seen[0], seen[1]);
    }

    [Fact]
    public async Task A_429_asking_longer_than_the_limit_fails_over_at_once()
    {
        Upstream.Script("ra-long", UpstreamStep.RateLimited(retryAfter: TimeSpan.FromSeconds(30)));
        Upstream.Script("ra-long-fallback", UpstreamStep.Reply("The fallback answers."));

        var result = await Service.CompleteAsync(Request("ra-long", "ra-long-fallback"));

        Assert.Equal(("The fallback answers.", "ra-long-fallback", true), (result.Text, result.Model, result.FallbackUsed));
        Assert.Equal(
            ["Up/ra-long rate_limited 429 retry_after_too_long", "Up/ra-long-fallback ok 200 -"],
            result.Attempts.Select(Describe));
        Assert.Single(Upstream.RequestsFor("ra-long"));
        Assert.Single(Upstream.RequestsFor("ra-long-fallback"));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task A_server_error_is_retried_twice_then_the_fallback_answers(int status)
    {
        var model = $"status-{status}";
        Upstream.Script(model, UpstreamStep.Status(status));
        Upstream.Script(model + "-fallback", UpstreamStep.Reply("Fallback reply."));

        var result = await Service.CompleteAsync(Request(model, model + "-fallback"));

        Assert.Equal(("Fallback reply.", model + "-fallback", true), (result.Text, result.Model, result.FallbackUsed));
        Assert.Equal(
            [.. Enumerable.Repeat($"Up/{model} error {status} server_error", 3), $"Up/{model}-fallback ok 200 -"],
            result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor(model);
        Assert.Equal(3, seen.Count);
        // Backoff: 20 ms * 2^n, with jitter never below half of it: at least 10 ms, then 20 ms.
        AssertGapAtLeast(TimeSpan.FromMilliseconds(30), seen[0], seen[2]);
        Assert.Single(Upstream.RequestsFor(model + "-fallback"));
    }

    [Fact]
    public async Task A_server_error_without_a_fallback_is_a_502_problem_with_reason_exhausted()
    {
        Upstream.Script("status-alone", UpstreamStep.Status(503));

        var failure = await Service.FailAsync(new CompletionRequest(Up, null, SystemPrompt, UserContent, "status-alone"));

        Assert.Equal(CompletionFailureReasons.Exhausted, failure.Reason);
        Assert.Equal(Enumerable.Repeat("Up/status-alone error 503 server_error", 3), failure.Attempts.Select(Describe));
        Assert.Null(failure.UpstreamStatus);
        Assert.Null(failure.UpstreamError);
        Assert.Equal(3, Upstream.RequestsFor("status-alone").Count);
    }

    [Fact]
    public async Task A_connection_reset_before_the_headers_is_retried()
    {
        Upstream.Script("reset", UpstreamStep.Reset(), UpstreamStep.Reply("After the reset."));

        var result = await Service.CompleteAsync(Request("reset", "reset-fallback"));

        Assert.Equal(("After the reset.", "reset", false), (result.Text, result.Model, result.FallbackUsed));
        Assert.Equal(["Up/reset error - connection_failed", "Up/reset ok 200 -"], result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor("reset");
        Assert.Equal(["reset", "replied"], await OutcomesAsync(seen));
        Assert.Empty(Upstream.RequestsFor("reset-fallback"));
    }

    [Fact]
    public async Task A_silent_upstream_times_out_on_the_first_token_each_attempt_then_the_fallback_answers()
    {
        Upstream.Script("silent", UpstreamStep.Silent());
        Upstream.Script("silent-fallback", UpstreamStep.Reply("Fallback after silence."));

        var result = await Service.CompleteAsync(Request("silent", "silent-fallback"));

        Assert.Equal(("Fallback after silence.", "silent-fallback", true), (result.Text, result.Model, result.FallbackUsed));
        Assert.Equal(
            [.. Enumerable.Repeat("Up/silent timeout - first_token_timeout", 3), "Up/silent-fallback ok 200 -"],
            result.Attempts.Select(Describe));
        Assert.All(result.Attempts.Take(3), a => Assert.True(a.LatencyMs >= 1000 - ClockTick.TotalMilliseconds, $"{a.LatencyMs} ms"));
        var seen = Upstream.RequestsFor("silent");
        Assert.Equal(3, seen.Count);
        // No bound on the gap between arrivals: an attempt's limit starts when providers sends it, and on a loaded
        // machine a request can take any time to arrive (CI once saw two arrivals 110 ms apart). Each attempt's own
        // latency, measured from its send, is the sound check, above.
        // Each abandoned attempt closed its connection: the upstream saw the client go away.
        foreach (var request in seen)
        {
            Assert.Equal("silent-aborted", await request.Finished.WaitAsync(Patience));
        }

        Assert.Single(Upstream.RequestsFor("silent-fallback"));
    }

    [Fact]
    public async Task A_stream_whose_first_token_is_late_fails_over_before_the_caller_sees_anything_of_it()
    {
        Upstream.Script("late", UpstreamStep.DelayFirstToken(TimeSpan.FromSeconds(10), "Too late to matter"));
        Upstream.Script("late-fallback", UpstreamStep.Reply("On time"));

        var stream = await Service.StreamAsync(Request("late", "late-fallback"));

        stream.AssertShape(2, CompletionStreamEvents.Completed);
        Assert.Equal(new StreamStart(Up, "late-fallback", true), stream.Start);
        Assert.Equal(["On ", "time"], stream.Deltas);
        var result = stream.Completed!;
        Assert.Equal(("On time", true), (result.Text, result.FallbackUsed));
        // The headers (200) and the role chunk came at once; the content did not.
        Assert.Equal(
            [.. Enumerable.Repeat("Up/late timeout 200 first_token_timeout", 3), "Up/late-fallback ok 200 -"],
            result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor("late");
        Assert.Equal(3, seen.Count);
        // Each attempt waited out its limit from its send (arrival gaps are not a sound check: see the test above).
        Assert.All(result.Attempts.Take(3), a => Assert.True(a.LatencyMs >= 1000 - ClockTick.TotalMilliseconds, $"{a.LatencyMs} ms"));
        Assert.All(seen, r => Assert.True(r.Stream));
        Assert.Single(Upstream.RequestsFor("late-fallback"));
    }

    [Fact]
    public async Task A_stream_cut_after_its_first_content_ends_in_a_failed_event_without_retry_or_failover()
    {
        Upstream.Script("cut", UpstreamStep.CutAfter(2, "alpha beta gamma delta"));
        Upstream.Script("cut-fallback", UpstreamStep.Reply("Never asked."));

        var stream = await Service.StreamAsync(Request("cut", "cut-fallback"));

        stream.AssertShape(2, CompletionStreamEvents.Failed);
        Assert.Equal(new StreamStart(Up, "cut", false), stream.Start);
        Assert.Equal(["alpha ", "beta "], stream.Deltas);
        var failure = stream.Failed!;
        Assert.Equal(CompletionFailureReasons.StreamFailed, failure.Reason);
        Assert.Equal(["Up/cut error 200 stream_cut"], failure.Attempts.Select(Describe));
        Assert.Equal(["cut"], await OutcomesAsync(Upstream.RequestsFor("cut")));
        Assert.Empty(Upstream.RequestsFor("cut-fallback"));
    }

    [Fact]
    public async Task A_stream_that_stalls_after_its_first_content_ends_in_a_failed_event_after_the_idle_timeout()
    {
        Upstream.Script("stall", UpstreamStep.StallAfter(2, "alpha beta gamma delta"));
        Upstream.Script("stall-fallback", UpstreamStep.Reply("Never asked."));

        var stream = await Service.StreamAsync(Request("stall", "stall-fallback"));

        stream.AssertShape(2, CompletionStreamEvents.Failed);
        Assert.Equal(["alpha ", "beta "], stream.Deltas);
        var failure = stream.Failed!;
        Assert.Equal(CompletionFailureReasons.StreamFailed, failure.Reason);
        Assert.Equal(["Up/stall timeout 200 idle_timeout"], failure.Attempts.Select(Describe));
        Assert.True(failure.Attempts[0].LatencyMs >= 1000 - ClockTick.TotalMilliseconds, $"{failure.Attempts[0].LatencyMs} ms");
        var seen = Assert.Single(Upstream.RequestsFor("stall"));
        // The stalled stream was abandoned: its connection closed.
        Assert.Equal("stalled-aborted", await seen.Finished.WaitAsync(Patience));
        // The role chunk and two words, then nothing.
        Assert.Equal(3, seen.ChunkSentAt.Count);
        Assert.Empty(Upstream.RequestsFor("stall-fallback"));
    }

    [Fact]
    public async Task A_stream_still_running_at_the_overall_deadline_ends_in_a_failed_event()
    {
        // The idle timeout is longer than the deadline, so the deadline is what ends the stalled stream.
        await using var service = await UpstreamService.StartAsync(new Dictionary<string, string>
        {
            ["DeadlineMs"] = "2000",
            ["IdleTimeoutMs"] = "10000",
        });
        service.Upstream.Script("deadline", UpstreamStep.StallAfter(2, "alpha beta gamma delta"));
        service.Upstream.Script("deadline-fallback", UpstreamStep.Reply("Never asked."));
        var elapsed = Stopwatch.StartNew();

        var stream = await service.StreamAsync(Request("deadline", "deadline-fallback"));

        Assert.True(elapsed.Elapsed >= TimeSpan.FromMilliseconds(2000) - ClockTick, $"ended after {elapsed.Elapsed.TotalMilliseconds:0} ms");
        stream.AssertShape(2, CompletionStreamEvents.Failed);
        Assert.Equal(["alpha ", "beta "], stream.Deltas);
        var failure = stream.Failed!;
        Assert.Equal(CompletionFailureReasons.StreamFailed, failure.Reason);
        Assert.Equal(["Up/deadline timeout - deadline"], failure.Attempts.Select(Describe));
        Assert.Equal(["stalled-aborted"], await OutcomesAsync(service.Upstream.RequestsFor("deadline")));
        Assert.Empty(service.Upstream.RequestsFor("deadline-fallback"));
    }

    [Fact]
    public async Task A_malformed_event_inside_a_stream_is_skipped_and_counted()
    {
        Upstream.Script("malformed", UpstreamStep.InvalidEvent("alpha beta gamma", afterContentChunks: 1));

        var stream = await Service.StreamAsync(Request("malformed", "malformed-fallback"));

        stream.AssertShape(3, CompletionStreamEvents.Completed);
        Assert.Equal(["alpha ", "beta ", "gamma"], stream.Deltas);
        var result = stream.Completed!;
        Assert.Equal(("alpha beta gamma", false), (result.Text, result.FallbackUsed));
        var attempt = Assert.Single(result.Attempts);
        Assert.Equal("Up/malformed ok 200 -", Describe(attempt));
        Assert.Equal(1, attempt.SkippedEvents);
        Assert.Equal(["replied-with-invalid-event"], await OutcomesAsync(Upstream.RequestsFor("malformed")));
        Assert.Empty(Upstream.RequestsFor("malformed-fallback"));
    }

    [Theory]
    [InlineData("no-done")]
    [InlineData("no-finish")]
    public async Task A_stream_without_done_or_without_a_finish_reason_ends_in_a_failed_event(string model)
    {
        const string Text = "alpha beta gamma";
        Upstream.Script(model, model == "no-done" ? UpstreamStep.OmitDone(Text) : UpstreamStep.NoFinishReason(Text));
        Upstream.Script(model + "-fallback", UpstreamStep.Reply("Never asked."));

        var stream = await Service.StreamAsync(Request(model, model + "-fallback"));

        stream.AssertShape(3, CompletionStreamEvents.Failed);
        Assert.Equal(["alpha ", "beta ", "gamma"], stream.Deltas);
        var failure = stream.Failed!;
        Assert.Equal(CompletionFailureReasons.StreamFailed, failure.Reason);
        Assert.Equal([$"Up/{model} error 200 stream_incomplete"], failure.Attempts.Select(Describe));
        Assert.Single(Upstream.RequestsFor(model));
        Assert.Empty(Upstream.RequestsFor(model + "-fallback"));
    }

    [Fact]
    public async Task A_stream_cut_before_any_content_is_retried_without_the_caller_noticing()
    {
        Upstream.Script("cut-early", UpstreamStep.CutAfter(0, "lost words"), UpstreamStep.Reply("Second time lucky"));

        var stream = await Service.StreamAsync(Request("cut-early", "cut-early-fallback"));

        stream.AssertShape(3, CompletionStreamEvents.Completed);
        Assert.Equal(new StreamStart(Up, "cut-early", false), stream.Start);
        Assert.Equal(["Second ", "time ", "lucky"], stream.Deltas);
        var result = stream.Completed!;
        Assert.Equal(("Second time lucky", false), (result.Text, result.FallbackUsed));
        Assert.Equal(["Up/cut-early error 200 stream_cut", "Up/cut-early ok 200 -"], result.Attempts.Select(Describe));
        var seen = Upstream.RequestsFor("cut-early");
        Assert.Equal(["cut", "replied"], await OutcomesAsync(seen));
        Assert.Empty(Upstream.RequestsFor("cut-early-fallback"));
    }

    [Fact]
    public async Task A_context_too_long_for_the_primary_fails_over_at_once()
    {
        Upstream.Script("context", UpstreamStep.ContextLengthExceeded());
        Upstream.Script("context-fallback", UpstreamStep.Reply("A bigger model."));

        var result = await Service.CompleteAsync(Request("context", "context-fallback"));

        Assert.Equal(("A bigger model.", "context-fallback", true), (result.Text, result.Model, result.FallbackUsed));
        Assert.Equal(["Up/context error 400 context_length_exceeded", "Up/context-fallback ok 200 -"], result.Attempts.Select(Describe));
        Assert.Single(Upstream.RequestsFor("context"));
        Assert.Single(Upstream.RequestsFor("context-fallback"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_content_policy_violation_is_a_502_problem_with_the_upstreams_error_and_no_failover(bool streamed)
    {
        var model = streamed ? "policy-stream" : "policy-whole";
        Upstream.Script(model, UpstreamStep.ContentPolicyViolation());
        Upstream.Script(model + "-fallback", UpstreamStep.Reply("Never asked."));

        var failure = await Service.FailAsync(Request(model, model + "-fallback"), stream: streamed);

        Assert.Equal(CompletionFailureReasons.Rejected, failure.Reason);
        Assert.Equal(400, failure.UpstreamStatus);
        Assert.Equal("content_policy_violation", failure.UpstreamError?.Code);
        Assert.Equal("invalid_request_error", failure.UpstreamError?.Type);
        Assert.Equal("Your request was rejected as a result of our safety system.", failure.UpstreamError?.Message);
        Assert.Equal([$"Up/{model} error 400 rejected"], failure.Attempts.Select(Describe));
        Assert.Single(Upstream.RequestsFor(model));
        Assert.Empty(Upstream.RequestsFor(model + "-fallback"));
    }

    [Theory]
    [InlineData(302)]
    [InlineData(307)]
    public async Task A_redirect_is_not_followed(int status)
    {
        var model = $"moved-{status}";
        Upstream.Script(model, UpstreamStep.Reply("Reached by a redirect."));
        Upstream.Script(model + "-fallback", UpstreamStep.Reply("Fallback, not the redirect."));

        var before = Upstream.Requests.Count;

        var result = await Service.CompleteAsync(new CompletionRequest($"Moved{status}", Up, SystemPrompt, UserContent, model, model + "-fallback"));

        Assert.Equal(("Fallback, not the redirect.", Up, true), (result.Text, result.Provider, result.FallbackUsed));
        Assert.Equal([$"Moved{status}/{model} error {status} invalid_response", $"Up/{model}-fallback ok 200 -"], result.Attempts.Select(Describe));
        // One request to the redirecting upstream, none to where it pointed (a followed 302 would arrive there as a GET
        // without a body, so every request the upstream saw meanwhile is counted): only the fallback's.
        Assert.Single(Service.Redirector.BodiesFor(model));
        Assert.Empty(Upstream.RequestsFor(model));
        Assert.Equal([model + "-fallback"], Upstream.Requests.Skip(before).Select(r => r.Model));
    }

    [Fact]
    public async Task A_failing_target_opens_its_circuit_and_a_probe_closes_it_once_the_upstream_recovered()
    {
        await using var service = await UpstreamService.StartAsync(new Dictionary<string, string>
        {
            ["BreakerMinimumThroughput"] = "4",
            ["BreakerFailureRatio"] = "0.5",
            ["BreakDurationMs"] = "1000",
            ["MaxRetries"] = "0",
        });
        var upstream = service.Upstream;
        // Four failures open the circuit. The upstream then still fails for 0.5 s from the first probe on (so that probe
        // fails and the circuit opens again) and recovers after that; the next probe comes a break (1 s) later.
        upstream.Script("breaker", [.. Enumerable.Repeat(UpstreamStep.Status(503), 4),
            UpstreamStep.FailFor(TimeSpan.FromMilliseconds(500), UpstreamStep.Reply("Recovered."))]);
        upstream.Script("breaker-fallback", UpstreamStep.Reply("From the fallback."));
        var request = Request("breaker", "breaker-fallback");

        for (var i = 0; i < 4; i++)
        {
            var failed = await service.CompleteAsync(request);
            Assert.Equal(["Up/breaker error 503 server_error", "Up/breaker-fallback ok 200 -"], failed.Attempts.Select(Describe));
        }

        var refused = await service.CompleteAsync(request);
        Assert.Equal(("From the fallback.", true), (refused.Text, refused.FallbackUsed));
        Assert.Equal(["Up/breaker error - circuit_open", "Up/breaker-fallback ok 200 -"], refused.Attempts.Select(Describe));
        Assert.Equal(0, refused.Attempts[0].LatencyMs);
        Assert.Equal(4, upstream.RequestsFor("breaker").Count);
        Assert.Contains(new CircuitStatus(Up, "breaker", "open"), await service.CircuitsAsync());
        Assert.Contains(new CircuitStatus(Up, "breaker-fallback", "closed"), await service.CircuitsAsync());

        // Call until the primary answers again; every call in between is refused, or is a failed probe.
        var waited = Stopwatch.StartNew();
        var probes = new List<CompletionResult>();
        CompletionResult answer;
        while (true)
        {
            answer = await service.CompleteAsync(request);
            if (!answer.FallbackUsed)
            {
                break;
            }

            if (answer.Attempts[0].Reason != AttemptReasons.CircuitOpen)
            {
                probes.Add(answer);
            }

            Assert.True(waited.Elapsed < Patience, $"The circuit did not close within {Patience}: {string.Join("; ", upstream.RequestsFor("breaker"))}");
            await Task.Delay(50);
        }

        Assert.Equal(("Recovered.", "breaker"), (answer.Text, answer.Model));
        Assert.Equal(["Up/breaker ok 200 -"], answer.Attempts.Select(Describe));
        var probe = Assert.Single(probes);
        Assert.Equal(["Up/breaker error 503 server_error", "Up/breaker-fallback ok 200 -"], probe.Attempts.Select(Describe));
        // The upstream saw the four failures, one failed probe, one successful probe: nothing while the circuit was open,
        // and each probe at least a break after the failure before it.
        var seen = upstream.RequestsFor("breaker");
        Assert.Equal(["status-503", "status-503", "status-503", "status-503", "status-503", "replied"], await OutcomesAsync(seen));
        AssertGapAtLeast(TimeSpan.FromSeconds(1), seen[3], seen[4]);
        AssertGapAtLeast(TimeSpan.FromSeconds(1), seen[4], seen[5]);
        Assert.Contains(new CircuitStatus(Up, "breaker", "closed"), await service.CircuitsAsync());
    }

    [Fact]
    public async Task An_empty_streamed_reply_still_starts_the_stream_before_completing()
    {
        Upstream.Script("empty", UpstreamStep.Reply(""));

        var stream = await Service.StreamAsync(Request("empty", "empty-fallback"));

        stream.AssertShape(0, CompletionStreamEvents.Completed);
        Assert.Equal(new StreamStart(Up, "empty", false), stream.Start);
        var result = stream.Completed!;
        Assert.Equal(("", "stop", false), (result.Text, result.FinishReason, result.FallbackUsed));
        Assert.Equal(["Up/empty ok 200 -"], result.Attempts.Select(Describe));
        Assert.Single(Upstream.RequestsFor("empty"));
    }

    private static CompletionRequest Request(string primaryModel, string fallbackModel) =>
        new(Up, Up, SystemPrompt, UserContent, primaryModel, fallbackModel);

    /// <summary>provider/model outcome status reason, "-" for none: one comparable line per attempt.</summary>
    private static string Describe(ProviderAttempt attempt) =>
        $"{attempt.Provider}/{attempt.Model} {attempt.Outcome} {attempt.Status?.ToString(CultureInfo.InvariantCulture) ?? "-"} {attempt.Reason ?? "-"}";

    /// <summary>How the upstream ended each request; it may record that a moment after the service has its answer.</summary>
    private static async Task<string[]> OutcomesAsync(IEnumerable<UpstreamRequest> requests) =>
        await Task.WhenAll(requests.Select(r => r.Finished.WaitAsync(Patience)));

    private static void AssertGapAtLeast(TimeSpan expected, UpstreamRequest earlier, UpstreamRequest later)
    {
        var gap = Stopwatch.GetElapsedTime(earlier.ReceivedAt, later.ReceivedAt);
        Assert.True(gap >= expected - ClockTick, $"requests #{earlier.Index} and #{later.Index} were {gap.TotalMilliseconds:0} ms apart, expected at least {expected.TotalMilliseconds:0} ms");
    }
}
