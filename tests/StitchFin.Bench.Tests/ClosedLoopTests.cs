using Microsoft.Extensions.Time.Testing;
using StitchFin.LoadBench.Load;

namespace StitchFin.LoadBench.Tests;

/// <summary>The closed loop's measured window, on a fake clock that each request advances by its own latency.</summary>
public sealed class ClosedLoopTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task A_first_answer_slower_than_the_window_does_not_leave_the_window_empty()
    {
        var requests = new int[2];

        var result = await ClosedLoop.RunAsync(2, TimeSpan.Zero, TimeSpan.FromMilliseconds(300), (worker, _) =>
        {
            // A cold system: each worker's first request takes longer than the whole window.
            var first = Interlocked.Increment(ref requests[worker]) == 1;
            _clock.Advance(first ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(1));
            return Task.FromResult(Outcome.Success("op"));
        }, CancellationToken.None, _clock);

        // Both workers advance the one clock: 300 ms hold about 300 requests, plus one per worker begun just before the
        // window closed (CI once counted 301).
        Assert.InRange(result["op"].Successes, 1, 300 + 2);
        Assert.True(result["op"].Latencies.Summarize().Max < 1000, "a first, cold request was counted");
    }

    [Fact]
    public async Task Requests_begun_during_the_warm_up_are_not_counted()
    {
        var warmup = TimeSpan.FromMilliseconds(200);
        var warmUpEnds = _clock.GetUtcNow() + warmup;

        var result = await ClosedLoop.RunAsync(1, warmup, TimeSpan.FromMilliseconds(200), (_, _) =>
        {
            var begun = _clock.GetUtcNow();
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            return Task.FromResult(begun < warmUpEnds ? Outcome.Failure("op", "begun in the warm-up") : Outcome.Success("op"));
        }, CancellationToken.None, _clock);

        Assert.Equal(0, result["op"].ErrorCount);
        Assert.Equal(20, result["op"].Successes);
    }

    [Fact]
    public async Task An_operation_whose_first_answer_is_slower_than_the_window_still_gets_answers_inside_it()
    {
        var messagesSent = 0;
        var sessionOpen = false;

        var result = await ClosedLoop.RunAsync(1, TimeSpan.Zero, TimeSpan.FromMilliseconds(300), (_, _) =>
        {
            // Like the bench's conversation workload: open a session, then a message whose first call is cold.
            if (!sessionOpen)
            {
                sessionOpen = true;
                _clock.Advance(TimeSpan.FromMilliseconds(1));
                return Task.FromResult(Outcome.Success("session"));
            }

            sessionOpen = false;
            _clock.Advance(messagesSent++ == 0 ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(1));
            return Task.FromResult(Outcome.Success("message"));
        }, CancellationToken.None, _clock);

        // The cold message began inside the window (it opened on the session's answer), so it counts; before, the
        // window closed while it ran and the result had no message at all.
        Assert.True(result["message"].Successes >= 1, "the window closed before any message was answered inside it");
        Assert.True(result.Measured >= TimeSpan.FromSeconds(5), $"the rate is over the window as it was stretched, not its nominal length ({result.Measured})");
    }

    [Fact]
    public async Task Requests_slower_than_the_window_are_counted_when_they_answer_after_it()
    {
        // A loaded machine: every request takes longer than the whole window (CI once reported a row with no answer,
        // because the window closed while the only requests begun inside it were still running).
        var result = await ClosedLoop.RunAsync(4, TimeSpan.Zero, TimeSpan.FromMilliseconds(300), (_, _) =>
        {
            _clock.Advance(TimeSpan.FromMilliseconds(500));
            return Task.FromResult(Outcome.Success("op"));
        }, CancellationToken.None, _clock);

        Assert.True(result["op"].Successes >= 1, "no request begun inside the window was counted");
        Assert.True(result.Measured >= TimeSpan.FromMilliseconds(500), $"the rate is over the time measured, not the window's length ({result.Measured})");
    }

    [Fact]
    public async Task The_window_stays_open_until_every_kind_of_request_has_been_measured()
    {
        var step = 0;

        // Like the bench's conversation workload on a loaded machine: a session, then two messages that each take
        // longer than the whole window. CI once reported a session row with no answer: every worker was inside its
        // messages for the whole window, so no session began inside it.
        var result = await ClosedLoop.RunAsync(1, TimeSpan.Zero, TimeSpan.FromMilliseconds(300), (_, _) =>
        {
            var operation = step++ % 3 == 0 ? "session" : "message";
            _clock.Advance(operation == "session" ? TimeSpan.FromMilliseconds(1) : TimeSpan.FromMilliseconds(400));
            return Task.FromResult(Outcome.Success(operation));
        }, CancellationToken.None, _clock);

        Assert.True(result["session"].Successes >= 1, "the window closed before any session began inside it");
        Assert.True(result["message"].Successes >= 1, "the window closed before any message began inside it");
    }

    [Fact]
    public async Task An_operation_made_only_in_the_warm_up_holds_the_window_open_only_so_long()
    {
        var warmup = TimeSpan.FromMilliseconds(50);
        var warmUpEnds = _clock.GetUtcNow() + warmup;

        var result = await ClosedLoop.RunAsync(1, warmup, TimeSpan.FromMilliseconds(100), (_, _) =>
        {
            var operation = _clock.GetUtcNow() < warmUpEnds ? "warm-up only" : "steady";
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            return Task.FromResult(Outcome.Success(operation));
        }, CancellationToken.None, _clock);

        Assert.Equal(TimeSpan.FromMilliseconds(100 * ClosedLoop.LongestHold), result.Measured);
        Assert.Equal(10 * ClosedLoop.LongestHold, result["steady"].Successes);
        Assert.Equal(0, result["warm-up only"].Successes);
    }
}
