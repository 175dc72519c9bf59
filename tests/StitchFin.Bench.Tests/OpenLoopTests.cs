using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;
using StitchFin.LoadBench.Load;

namespace StitchFin.LoadBench.Tests;

/// <summary>
/// The open-loop driver on a fake clock. Most operations advance the clock themselves, synchronously, to the next
/// send's due time, so the driver never has to wait and every time it sees is exact.
/// </summary>
public sealed class OpenLoopTests
{
    private static readonly Answer Created = Answer.FromStatus(HttpStatusCode.Created);

    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Each_phase_sends_rate_times_duration_requests_at_their_due_times()
    {
        LoadPhase[] phases = [new("10/s", 10, TimeSpan.FromSeconds(2)), new("40/s", 40, TimeSpan.FromSeconds(1))];
        var start = _clock.GetTimestamp();
        var dueTimes = new List<TimeSpan>();
        var sentAt = new List<TimeSpan>();

        var result = await OpenLoop.RunAsync(phases, Settings(TimeSpan.FromMilliseconds(500)), (send, _) =>
        {
            dueTimes.Add(send.DueAt);
            sentAt.Add(_clock.GetElapsedTime(start));
            _clock.Advance(TimeSpan.FromSeconds(1 / phases[send.Phase].Rate));
            return Task.FromResult(Created);
        }, CancellationToken.None, _clock);

        Assert.Equal(20, result.Phases[0].Total().Offered);
        Assert.Equal(40, result.Phases[1].Total().Offered);
        Assert.Equal(60, result.Scheduled);
        Assert.Equal(60, result.Phases.Sum(p => p.Total().Count(AnswerKind.Completed)));
        Assert.Equal(TimeSpan.FromMilliseconds(1900), dueTimes[19]);
        Assert.Equal(TimeSpan.FromMilliseconds(2000), dueTimes[20]);
        Assert.Equal(TimeSpan.FromMilliseconds(2975), dueTimes[59]);
        Assert.Equal(dueTimes, sentAt);
    }

    [Fact]
    public async Task A_late_send_counts_its_wait_from_the_due_time()
    {
        // 10/s: due at 0, 100 and 200 ms. The first send holds the loop for 250 ms, so the next two go out late, at 250 ms,
        // and answer at once: measured from when they were sent they would take 0 ms.
        var result = await OpenLoop.RunAsync([new("10/s", 10, TimeSpan.FromMilliseconds(300))], Settings(TimeSpan.FromSeconds(1)), (send, _) =>
        {
            _clock.Advance(send.Sequence switch
            {
                0 => TimeSpan.FromMilliseconds(250),
                2 => TimeSpan.FromMilliseconds(50),
                _ => TimeSpan.Zero,
            });
            return Task.FromResult(Created);
        }, CancellationToken.None, _clock);

        // Latencies: 250 ms (held), 150 ms (due 100, answered 250), 100 ms (due 200, answered 300).
        var latency = result.Phases[0].Total().CompletedLatency();
        Assert.Equal(3, latency.Count);
        Assert.InRange(latency.Max, 249.5, 250.5);
        Assert.InRange(latency.P50, 149.5, 150.5);

        // Sent at 0, 250 and 250 ms: the loop's own lag, 150 ms at most.
        Assert.InRange(result.Phases[0].Total().SendLateness().Max, 149.5, 150.5);
    }

    [Fact]
    public async Task Requests_are_counted_in_the_interval_they_are_due_in_and_sampled_at_its_end()
    {
        // 10/s for 2 s in 500 ms intervals (5 due in each), then 20/s for 1.2 s: 500, 500 and a last 200 ms interval.
        LoadPhase[] phases = [new("10/s", 10, TimeSpan.FromSeconds(2)), new("20/s", 20, TimeSpan.FromMilliseconds(1200))];
        var start = _clock.GetTimestamp();
        var sampledAt = new List<TimeSpan>();

        var result = await OpenLoop.RunAsync(phases, Settings(TimeSpan.FromMilliseconds(500)), (send, _) =>
        {
            _clock.Advance(TimeSpan.FromSeconds(1 / phases[send.Phase].Rate));
            return Task.FromResult(send.Sequence switch
            {
                // Interval 0: one 503 with Retry-After; interval 1: a 429 without; interval 2: a 502.
                3 => Answer.FromStatus(HttpStatusCode.ServiceUnavailable, new RetryConditionHeaderValue(TimeSpan.FromSeconds(1))),
                7 => Answer.FromStatus(HttpStatusCode.TooManyRequests),
                12 => Answer.FromStatus(HttpStatusCode.BadGateway),
                _ => Created,
            });
        }, CancellationToken.None, _clock, () =>
        {
            sampledAt.Add(_clock.GetElapsedTime(start));
            return new Dictionary<string, long> { ["gateway"] = sampledAt.Count };
        });

        var intervals = result.Phases.SelectMany(p => p.Intervals).ToArray();
        Assert.Equal([4, 3], result.Phases.Select(p => p.Intervals.Count));
        Assert.Equal([5L, 5, 5, 5, 10, 10, 4], intervals.Select(i => i.Offered));
        Assert.Equal([TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(200)],
            result.Phases[1].Intervals.Select(i => i.Length));

        Assert.Equal(1, intervals[0].Count(AnswerKind.Shed503));
        Assert.Equal(1, intervals[0].CountWithRetryAfter(AnswerKind.Shed503));
        Assert.Equal(4, intervals[0].Count(AnswerKind.Completed));
        Assert.Equal(1, intervals[1].Count(AnswerKind.Shed429));
        Assert.Equal(0, intervals[1].CountWithRetryAfter(AnswerKind.Shed429));
        Assert.Equal(1, intervals[2].Count(AnswerKind.ServerError));
        Assert.Equal(1, intervals[2].Errors["HTTP 502"]);
        Assert.All(intervals.Skip(3), i => Assert.Equal(i.Offered, i.Count(AnswerKind.Completed)));

        // One sample per interval, taken at its end, kept with it.
        Assert.Equal(intervals.Select(i => i.End), sampledAt);
        Assert.Equal(Enumerable.Range(1, intervals.Length).Select(n => (long)n), intervals.Select(i => i.Sample!["gateway"]));

        var first = result.Phases[0].Total();
        Assert.Equal(20, first.Offered);
        Assert.Equal(17, first.Count(AnswerKind.Completed));
        Assert.Equal(2, first.ShedLatency().Count);
    }

    [Fact]
    public async Task Beyond_the_cap_sends_are_counted_as_not_sent_and_unanswered_ones_as_timeouts()
    {
        var inFlight = 0;
        var mostInFlight = 0;
        var settings = new OpenLoopSettings(TimeSpan.FromSeconds(1), RequestTimeout: TimeSpan.FromMilliseconds(250), MaxInFlight: 1);

        // Requests that never answer: each ends when its timeout cancels it. The clock is moved from outside.
        var run = OpenLoop.RunAsync([new("10/s", 10, TimeSpan.FromSeconds(1))], settings, async (_, token) =>
        {
            mostInFlight = Math.Max(mostInFlight, Interlocked.Increment(ref inFlight));
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, token);
                return Created;
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }, CancellationToken.None, _clock);
        while (!run.IsCompleted)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(1);
        }

        var total = (await run).Phases[0].Total();
        Assert.Equal(1, mostInFlight);
        Assert.Equal(10, total.Offered);
        Assert.Equal(10, total.Count(AnswerKind.Timeout) + total.Count(AnswerKind.NotSent));
        Assert.InRange(total.Count(AnswerKind.Timeout), 3, 5);
        Assert.Equal(0, total.Count(AnswerKind.Completed));
    }

    [Fact]
    public void Phases_are_given_as_a_share_of_the_capacity_or_as_a_rate()
    {
        Assert.True(BenchOptions.TryParse(["--open-loop", "--phases", "50%:60s,200%:1m,120/s:500ms,7.5:2", "--capacity", "400", "--interval", "2s"],
            out var options, out var problem), problem);

        var openLoop = options!.OpenLoop!;
        Assert.Equal([200.0, 800, 120, 7.5], openLoop.Phases.Select(p => p.Rate));
        Assert.Equal([60.0, 60, 0.5, 2], openLoop.Phases.Select(p => p.Duration.TotalSeconds));
        Assert.Equal(["50 %", "200 %", "120/s", "7.5/s"], openLoop.Phases.Select(p => p.Label));
        Assert.Equal(TimeSpan.FromSeconds(2), openLoop.Settings.Interval);
        Assert.Equal(TimeSpan.FromSeconds(10), openLoop.Settings.RequestTimeout);
        Assert.Equal(12_000, openLoop.Phases[0].Sends);
    }

    [Theory]
    [InlineData("is a percentage of the capacity", "--open-loop")]
    [InlineData("is a percentage of the capacity", "--open-loop", "--phases", "50%:10s")]
    [InlineData("applies only with --open-loop", "--phases", "20/s:10s")]
    [InlineData("is not RATE:DURATION", "--open-loop", "--phases", "20/s")]
    [InlineData("is neither a percentage", "--open-loop", "--phases", "fast:10s")]
    [InlineData("is not a duration above 0", "--open-loop", "--phases", "20/s:0s")]
    [InlineData("--request-timeout: 'soon' is not a duration", "--open-loop", "--phases", "20/s:1s", "--request-timeout", "soon")]
    [InlineData("--capacity must be a number", "--open-loop", "--capacity", "-3")]
    [InlineData("sends no message", "--open-loop", "--phases", "0.5/s:1s")]
    public void Open_loop_options_are_validated_with_a_clear_message(string expected, params string[] args)
    {
        Assert.False(BenchOptions.TryParse(args, out _, out var problem));
        Assert.Contains(expected, problem);
    }

    private static OpenLoopSettings Settings(TimeSpan interval) => new(interval, TimeSpan.FromSeconds(10), MaxInFlight: 1000);
}
