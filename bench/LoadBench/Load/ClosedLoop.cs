using System.Diagnostics;

namespace StitchFin.LoadBench.Load;

/// <summary>One request of a workload, made by the given worker (workers keep their own state by index).</summary>
public delegate Task<Outcome> LoadOperation(int worker, CancellationToken cancellationToken);

/// <summary>
/// N workers, each sending its next request as soon as the previous one answered (like wrk), so at saturation the
/// latency includes queueing. The window opens after the warm-up, and not before every worker has had its first
/// answer, so a cold system's first requests never use it up; it closes after its length, and not before every
/// operation begun inside it has had an answer inside it, so an operation whose first requests are slower than the window still
/// shows in the result. Only requests that start and finish inside it count.
/// </summary>
public static class ClosedLoop
{
    /// <summary>However slow an operation is, the window never stays open longer than this many times its length.</summary>
    private const int MaximumStretch = 20;

    public static async Task<LoadResult> RunAsync(
        int workers, TimeSpan warmup, TimeSpan duration, LoadOperation operation, CancellationToken cancellationToken,
        TimeProvider? timeProvider = null)
    {
        var clock = timeProvider ?? TimeProvider.System;
        var window = new Window(workers, clock.GetTimestamp() + Ticks(clock, warmup), Ticks(clock, duration));
        var perWorker = new WorkerRecord[workers];
        var tasks = new Task[workers];
        for (var worker = 0; worker < workers; worker++)
        {
            var record = perWorker[worker] = new WorkerRecord();
            var index = worker;
            tasks[worker] = Task.Run(() => WorkAsync(index, record, operation, window, clock, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(tasks);
        return LoadResult.Merge(perWorker.Select(w => w.Operations), TimeSpan.FromSeconds((double)window.Length / clock.TimestampFrequency));
    }

    private static async Task WorkAsync(
        int worker, WorkerRecord record, LoadOperation operation, Window window, TimeProvider clock, CancellationToken cancellationToken)
    {
        var answered = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var begin = clock.GetTimestamp();
            if (window.HasClosed(begin))
            {
                return;
            }

            var outcome = await operation(worker, cancellationToken);
            var end = clock.GetTimestamp();
            if (!answered)
            {
                answered = true;
                window.WorkerAnswered(end);
            }

            if (window.Admit(outcome.Operation, begin, end))
            {
                record.For(outcome.Operation).Record(outcome, clock.GetElapsedTime(begin, end));
            }
        }
    }

    private static long Ticks(TimeProvider clock, TimeSpan span) => (long)(span.TotalSeconds * clock.TimestampFrequency);

    /// <summary>
    /// The measured window in the clock's timestamps: unknown until the last worker's first answer, then open until
    /// its length has passed and every operation seen has an answer inside it (at most <see cref="MaximumStretch"/>
    /// lengths). A lock keeps "closed" and "counted" consistent; at the rates measured here it costs nothing.
    /// </summary>
    private sealed class Window(int workers, long earliestStart, long length)
    {
        private readonly Lock _lock = new();
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
        private readonly HashSet<string> _answeredInside = new(StringComparer.Ordinal);
        private int _waitingForFirstAnswer = workers;
        private long? _start;
        private long? _closedAt;
        private long _lastAdmittedEnd;

        public long Length
        {
            get
            {
                lock (_lock)
                {
                    return _start is { } start && _closedAt is { } closed ? closed - start : length;
                }
            }
        }

        public void WorkerAnswered(long at)
        {
            lock (_lock)
            {
                if (--_waitingForFirstAnswer == 0)
                {
                    _start = Math.Max(earliestStart, at);
                }
            }
        }

        public bool HasClosed(long at)
        {
            lock (_lock)
            {
                if (_closedAt is { } closed)
                {
                    return at >= closed;
                }

                if (_start is not { } start || at < start + length)
                {
                    return false;
                }

                if (_answeredInside.Count < _seen.Count && at < start + MaximumStretch * length)
                {
                    return false;
                }

                // A request admitted while the window was open may have ended after this worker read the clock.
                _closedAt = Math.Max(at, _lastAdmittedEnd);
                return at >= _closedAt;
            }
        }

        /// <summary>Whether a request counts: begun after the window opened and ended before it closed.</summary>
        public bool Admit(string operation, long begin, long end)
        {
            lock (_lock)
            {
                if (_start is not { } start || begin < start)
                {
                    return false;
                }

                _seen.Add(operation);
                if (end > (_closedAt ?? long.MaxValue))
                {
                    return false;
                }

                _answeredInside.Add(operation);
                _lastAdmittedEnd = Math.Max(_lastAdmittedEnd, end);
                return true;
            }
        }
    }

    private sealed class WorkerRecord
    {
        public Dictionary<string, OperationStats> Operations { get; } = new(StringComparer.Ordinal);

        public OperationStats For(string operation)
        {
            if (!Operations.TryGetValue(operation, out var stats))
            {
                Operations[operation] = stats = new OperationStats();
            }

            return stats;
        }
    }
}

/// <summary>Latencies of the successful requests of one operation, and its failures by kind.</summary>
public sealed class OperationStats
{
    public Latencies Latencies { get; } = new();

    public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);

    public long Successes => Latencies.Count;

    public long ErrorCount => Errors.Values.Sum();

    public void Record(Outcome outcome, long begin, long end) => Record(outcome, Stopwatch.GetElapsedTime(begin, end));

    public void Record(Outcome outcome, TimeSpan latency)
    {
        if (outcome.Succeeded)
        {
            Latencies.Record(latency);
        }
        else
        {
            Errors[outcome.Error!] = Errors.GetValueOrDefault(outcome.Error!) + 1;
        }
    }

    public void Add(OperationStats other)
    {
        Latencies.Add(other.Latencies);
        foreach (var (error, count) in other.Errors)
        {
            Errors[error] = Errors.GetValueOrDefault(error) + count;
        }
    }
}

/// <summary>Everything measured in one window (or several windows of the same target added together).</summary>
public sealed class LoadResult
{
    private LoadResult(Dictionary<string, OperationStats> operations, TimeSpan measured)
    {
        Operations = operations;
        Measured = measured;
    }

    public IReadOnlyDictionary<string, OperationStats> Operations { get; }

    public TimeSpan Measured { get; }

    public OperationStats this[string operation] => Operations.TryGetValue(operation, out var stats) ? stats : new OperationStats();

    public double PerSecond(string operation) => this[operation].Successes / Measured.TotalSeconds;

    public static LoadResult Merge(IEnumerable<IReadOnlyDictionary<string, OperationStats>> parts, TimeSpan measured)
    {
        var merged = new Dictionary<string, OperationStats>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var (operation, stats) in part)
            {
                if (!merged.TryGetValue(operation, out var total))
                {
                    merged[operation] = total = new OperationStats();
                }

                total.Add(stats);
            }
        }

        return new LoadResult(merged, measured);
    }

    /// <summary>Windows of the same target from interleaved rounds, as if measured in one window.</summary>
    public static LoadResult Combine(IReadOnlyList<LoadResult> rounds) =>
        Merge(rounds.Select(r => r.Operations), TimeSpan.FromTicks(rounds.Sum(r => r.Measured.Ticks)));
}
