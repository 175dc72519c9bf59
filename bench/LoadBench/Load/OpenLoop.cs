using System.Net;
using System.Net.Http.Headers;

namespace StitchFin.LoadBench.Load;

/// <summary>A stretch of an open-loop run: requests at <see cref="Rate"/> per second for <see cref="Duration"/>.</summary>
/// <param name="Label">How the phase was given, for the report (<c>50 %</c>, <c>120/s</c>).</param>
public sealed record LoadPhase(string Label, double Rate, TimeSpan Duration)
{
    /// <summary>Sends in the phase: one every 1/rate seconds from its start, so rate × duration of them.</summary>
    public long Sends => (long)Math.Ceiling(Rate * Duration.TotalSeconds - 1e-9);
}

/// <summary>What became of one scheduled request.</summary>
public enum AnswerKind
{
    /// <summary>2xx.</summary>
    Completed,

    /// <summary>429 Too Many Requests (the per-tenant limit).</summary>
    Shed429,

    /// <summary>503 Service Unavailable (admission control, or the edge unable to reach a service).</summary>
    Shed503,

    /// <summary>Any other 5xx.</summary>
    ServerError,

    /// <summary>Any other status (a 4xx other than 429, a 3xx): a bench or contract problem.</summary>
    OtherStatus,

    /// <summary>No answer within the per-request timeout; the client gave up.</summary>
    Timeout,

    /// <summary>Refused, reset, or another failure below HTTP.</summary>
    TransportError,

    /// <summary>Not sent: as many requests as the cap allows were already waiting for their answers.</summary>
    NotSent,
}

/// <summary>One request's answer: its kind, the status if there was one, and whether it carried Retry-After.</summary>
public readonly record struct Answer(AnswerKind Kind, int Status = 0, bool RetryAfter = false, string? Detail = null)
{
    public static Answer FromResponse(HttpResponseMessage response) =>
        FromStatus(response.StatusCode, response.Headers.RetryAfter);

    public static Answer FromStatus(HttpStatusCode statusCode, RetryConditionHeaderValue? retryAfter = null)
    {
        var status = (int)statusCode;
        var kind = status switch
        {
            >= 200 and < 300 => AnswerKind.Completed,
            429 => AnswerKind.Shed429,
            503 => AnswerKind.Shed503,
            >= 500 => AnswerKind.ServerError,
            _ => AnswerKind.OtherStatus,
        };
        return new Answer(kind, status, retryAfter is not null, kind is AnswerKind.ServerError or AnswerKind.OtherStatus ? $"HTTP {status}" : null);
    }
}

/// <summary>A request of an open-loop run: its number, its phase and when it was due, from the run's start.</summary>
public readonly record struct ScheduledSend(long Sequence, int Phase, TimeSpan DueAt);

/// <summary>Sends one request and returns its answer; throws on a transport failure or when cancelled (the timeout).</summary>
public delegate Task<Answer> OpenLoopOperation(ScheduledSend send, CancellationToken cancellationToken);

/// <summary>Settings of an open-loop run besides its phases.</summary>
/// <param name="Interval">Length of a reported interval; a phase's last one may be shorter.</param>
/// <param name="RequestTimeout">A request not answered this long after it was sent counts as a timeout and is cancelled.</param>
/// <param name="MaxInFlight">The most requests waiting for an answer at once; a send due beyond it is counted as not sent.</param>
public sealed record OpenLoopSettings(TimeSpan Interval, TimeSpan RequestTimeout, int MaxInFlight);

/// <summary>
/// Requests at fixed rates, phase after phase, whatever the answers: each is due at an exact time from the run's start
/// and is sent then (or at once, if the loop is late), never waiting for earlier ones, so concurrency grows with the
/// latency up to <see cref="OpenLoopSettings.MaxInFlight"/>. Latency is from the due time to the answer, so a late send
/// counts its wait (no coordinated omission). Every request is counted in the interval its due time falls in; the
/// sampler, if any, runs once at each interval's end (for each service's RSS).
/// </summary>
public static class OpenLoop
{
    public static async Task<OpenLoopResult> RunAsync(
        IReadOnlyList<LoadPhase> phases, OpenLoopSettings settings, OpenLoopOperation operation, CancellationToken cancellationToken,
        TimeProvider? timeProvider = null, Func<IReadOnlyDictionary<string, long>>? sampleAtIntervalEnd = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(phases.Count);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.Interval, TimeSpan.Zero);
        var clock = timeProvider ?? TimeProvider.System;
        var result = OpenLoopResult.Plan(phases, settings.Interval);
        var run = new Run(clock, settings, operation, cancellationToken);
        var start = clock.GetTimestamp();

        var intervals = result.Phases.SelectMany(p => p.Intervals).ToArray();
        var nextToClose = 0;
        for (var p = 0; p < phases.Count; p++)
        {
            var phase = result.Phases[p];
            var rate = phases[p].Rate;
            for (long i = 0; i < phases[p].Sends; i++)
            {
                var offsetInPhase = TimeSpan.FromTicks((long)Math.Round(i * TimeSpan.TicksPerSecond / rate));
                var dueAt = phase.Start + offsetInPhase;

                // Close, and sample at the end of, every interval that ends before this send is due.
                while (nextToClose < intervals.Length && intervals[nextToClose].End <= dueAt)
                {
                    await WaitUntilAsync(clock, start, intervals[nextToClose].End, cancellationToken);
                    intervals[nextToClose++].Close(sampleAtIntervalEnd);
                }

                await WaitUntilAsync(clock, start, dueAt, cancellationToken);
                var interval = phase.IntervalAt(offsetInPhase);
                run.Start(new ScheduledSend(result.Scheduled++, p, dueAt), start, interval);
            }
        }

        while (nextToClose < intervals.Length)
        {
            await WaitUntilAsync(clock, start, intervals[nextToClose].End, cancellationToken);
            intervals[nextToClose++].Close(sampleAtIntervalEnd);
        }

        await run.WhenAllAnsweredAsync();
        return result;
    }

    private static async Task WaitUntilAsync(TimeProvider clock, long start, TimeSpan at, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var wait = at - clock.GetElapsedTime(start);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }
    }

    private sealed class Run(TimeProvider clock, OpenLoopSettings settings, OpenLoopOperation operation, CancellationToken cancellationToken)
    {
        private readonly List<Task> _sends = [];
        private int _inFlight;

        public void Start(ScheduledSend send, long start, IntervalStats interval)
        {
            interval.CountOffered(clock.GetElapsedTime(start) - send.DueAt);
            if (Interlocked.Increment(ref _inFlight) > settings.MaxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                interval.Record(new Answer(AnswerKind.NotSent), null);
                return;
            }

            _sends.Add(SendAsync(send, start, interval));
        }

        public Task WhenAllAnsweredAsync() => Task.WhenAll(_sends);

        private async Task SendAsync(ScheduledSend send, long start, IntervalStats interval)
        {
            Answer answer;
            using var timeout = new CancellationTokenSource(settings.RequestTimeout, clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                answer = await operation(send, linked.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                answer = new Answer(AnswerKind.Timeout);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Outcome.TryDescribe(ex, cancellationToken, out var error))
            {
                answer = error == "timeout" ? new Answer(AnswerKind.Timeout) : new Answer(AnswerKind.TransportError, Detail: error);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }

            interval.Record(answer, clock.GetElapsedTime(start) - send.DueAt);
        }
    }
}

/// <summary>Every phase's intervals, as planned before the run and filled in during it.</summary>
public sealed class OpenLoopResult
{
    private OpenLoopResult(IReadOnlyList<PhaseStats> phases) => Phases = phases;

    public IReadOnlyList<PhaseStats> Phases { get; }

    /// <summary>Requests due in the whole run, sent or not.</summary>
    public long Scheduled { get; internal set; }

    public static OpenLoopResult Plan(IReadOnlyList<LoadPhase> phases, TimeSpan interval)
    {
        var planned = new List<PhaseStats>();
        var start = TimeSpan.Zero;
        foreach (var phase in phases)
        {
            planned.Add(new PhaseStats(phase, start, interval));
            start += phase.Duration;
        }

        return new OpenLoopResult(planned);
    }
}

/// <summary>One phase: its place in the run and its intervals.</summary>
public sealed class PhaseStats
{
    private readonly TimeSpan _interval;

    public PhaseStats(LoadPhase phase, TimeSpan start, TimeSpan interval)
    {
        Phase = phase;
        Start = start;
        _interval = interval;
        var intervals = new List<IntervalStats>();
        for (var offset = TimeSpan.Zero; offset < phase.Duration; offset += interval)
        {
            var length = offset + interval <= phase.Duration ? interval : phase.Duration - offset;
            intervals.Add(new IntervalStats(start + offset, length));
        }

        Intervals = intervals;
    }

    public LoadPhase Phase { get; }

    /// <summary>From the run's start.</summary>
    public TimeSpan Start { get; }

    public IReadOnlyList<IntervalStats> Intervals { get; }

    public IntervalStats IntervalAt(TimeSpan offsetInPhase) =>
        Intervals[Math.Min(Intervals.Count - 1, (int)(offsetInPhase.Ticks / _interval.Ticks))];

    /// <summary>The phase's intervals added together.</summary>
    public IntervalStats Total()
    {
        var total = new IntervalStats(Start, Phase.Duration);
        foreach (var interval in Intervals)
        {
            total.Add(interval);
        }

        return total;
    }
}

/// <summary>
/// The requests due in one interval and what became of them (however late they answered), with latencies from their
/// due times; thread-safe, since answers arrive on many threads.
/// </summary>
public sealed class IntervalStats(TimeSpan start, TimeSpan length)
{
    private readonly Lock _lock = new();
    private readonly long[] _byKind = new long[Enum.GetValues<AnswerKind>().Length];
    private readonly long[] _withRetryAfter = new long[Enum.GetValues<AnswerKind>().Length];
    private readonly Latencies _completed = new();
    private readonly Latencies _shed = new();
    private readonly Latencies _sendLateness = new();
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _offered;

    /// <summary>From the run's start.</summary>
    public TimeSpan Start { get; } = start;

    public TimeSpan Length { get; } = length;

    public TimeSpan End => Start + Length;

    /// <summary>What the sampler returned at the interval's end (each service's RSS in kB), or null before then.</summary>
    public IReadOnlyDictionary<string, long>? Sample { get; private set; }

    public bool Closed { get; private set; }

    public long Offered
    {
        get
        {
            lock (_lock)
            {
                return _offered;
            }
        }
    }

    /// <summary>Requests due in the interval that have an answer, a timeout, an error or were not sent.</summary>
    public long Finished
    {
        get
        {
            lock (_lock)
            {
                return _byKind.Sum();
            }
        }
    }

    public long Count(AnswerKind kind)
    {
        lock (_lock)
        {
            return _byKind[(int)kind];
        }
    }

    public long CountWithRetryAfter(AnswerKind kind)
    {
        lock (_lock)
        {
            return _withRetryAfter[(int)kind];
        }
    }

    /// <summary>Latencies of the 2xx answers, from their due times.</summary>
    public LatencySummary CompletedLatency()
    {
        lock (_lock)
        {
            return _completed.Summarize();
        }
    }

    /// <summary>Latencies of the 429 and 503 answers, from their due times.</summary>
    public LatencySummary ShedLatency()
    {
        lock (_lock)
        {
            return _shed.Summarize();
        }
    }

    /// <summary>Other statuses and transport failures by kind (<c>HTTP 502</c>, <c>socket ConnectionRefused</c>).</summary>
    public IReadOnlyDictionary<string, long> Errors
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, long>(_errors, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>How long after their due times the requests were sent (or found the cap reached): the load generator's own lag.</summary>
    public LatencySummary SendLateness()
    {
        lock (_lock)
        {
            return _sendLateness.Summarize();
        }
    }

    public void CountOffered(TimeSpan late)
    {
        lock (_lock)
        {
            _offered++;
            _sendLateness.Record(late);
        }
    }

    public void Record(Answer answer, TimeSpan? sinceDue)
    {
        lock (_lock)
        {
            _byKind[(int)answer.Kind]++;
            if (answer.RetryAfter)
            {
                _withRetryAfter[(int)answer.Kind]++;
            }

            if (sinceDue is { } latency && answer.Kind == AnswerKind.Completed)
            {
                _completed.Record(latency);
            }
            else if (sinceDue is { } shedLatency && answer.Kind is AnswerKind.Shed429 or AnswerKind.Shed503)
            {
                _shed.Record(shedLatency);
            }

            if (answer.Detail is { } detail)
            {
                _errors[detail] = _errors.GetValueOrDefault(detail) + 1;
            }
        }
    }

    internal void Close(Func<IReadOnlyDictionary<string, long>>? sampler)
    {
        Sample = sampler?.Invoke();
        Closed = true;
    }

    internal void Add(IntervalStats other)
    {
        lock (other._lock)
        {
            lock (_lock)
            {
                _offered += other._offered;
                for (var i = 0; i < _byKind.Length; i++)
                {
                    _byKind[i] += other._byKind[i];
                    _withRetryAfter[i] += other._withRetryAfter[i];
                }

                _completed.Add(other._completed);
                _shed.Add(other._shed);
                _sendLateness.Add(other._sendLateness);
                foreach (var (error, count) in other._errors)
                {
                    _errors[error] = _errors.GetValueOrDefault(error) + count;
                }

                Sample = other.Sample ?? Sample;
            }
        }
    }
}
