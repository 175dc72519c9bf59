using System.Diagnostics;

namespace StitchFin.LoadBench.Load;

/// <summary>One request of a workload, made by the given worker (workers keep their own state by index).</summary>
public delegate Task<Outcome> LoadOperation(int worker, CancellationToken cancellationToken);

/// <summary>
/// N workers, each sending its next request as soon as the previous one answered (like wrk), so at saturation the
/// latency includes queueing. The window opens after the warm-up, and not before every worker has had its first
/// answer, so a cold system's first requests never use it up. No request begins after its length has passed and
/// every kind of request seen so far has been measured at least once (so a slow machine never reports a kind with no
/// answers; a kind made only in the warm-up holds it open at most <see cref="LongestHold"/> lengths), and every request begun inside it counts, however long it takes to answer: the window ends with the last
/// of them, so an operation slower than the window still shows in the result and the rate is over the time really
/// measured.
/// </summary>
public static class ClosedLoop
{
    public const int LongestHold = 10;

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
        return LoadResult.Merge(perWorker.Select(w => w.Operations), TimeSpan.FromSeconds((double)window.Measured / clock.TimestampFrequency));
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
    /// The measured window in the clock's timestamps: unknown until the last worker's first answer, then open to new
    /// requests for its length and until every kind of request seen has been measured once, and measured until the
    /// last request begun inside it has answered. A lock keeps the start, the kinds and the last answer consistent;
    /// at the rates measured here it costs nothing.
    /// </summary>
    private sealed class Window(int workers, long earliestStart, long length)
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, bool> _measuredByOperation = new(StringComparer.Ordinal);
        private int _unmeasuredOperations;
        private int _waitingForFirstAnswer = workers;
        private long? _start;
        private long _lastAdmittedEnd;

        /// <summary>From the start to the last counted answer, never less than the window's length.</summary>
        public long Measured
        {
            get
            {
                lock (_lock)
                {
                    return _start is { } start ? Math.Max(length, _lastAdmittedEnd - start) : length;
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
                return _start is { } start && at >= start + length && (_unmeasuredOperations == 0 || at >= start + LongestHold * length);
            }
        }

        /// <summary>Whether a request counts: begun after the window opened (it cannot begin after it closed).</summary>
        public bool Admit(string operation, long begin, long end)
        {
            lock (_lock)
            {
                var admitted = _start is { } start && begin >= start;
                if (!_measuredByOperation.TryGetValue(operation, out var measured))
                {
                    _unmeasuredOperations++;
                }

                if (admitted && !measured)
                {
                    _unmeasuredOperations--;
                }

                _measuredByOperation[operation] = measured || admitted;
                if (admitted)
                {
                    _lastAdmittedEnd = Math.Max(_lastAdmittedEnd, end);
                }

                return admitted;
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
