using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using StitchFin.LoadBench.Load;

namespace StitchFin.LoadBench.Sections;

/// <summary>Reads a tenant's <c>totals.messages</c> from <c>GET /usage</c> over a window that surely holds today in Chicago.</summary>
public sealed class UsagePoller(HttpClient edge)
{
    public const string Operation = "GET /usage";

    private readonly string _path = UsagePath(DateTime.UtcNow);

    /// <summary>Latency and failures of every poll.</summary>
    public OperationStats Polls { get; } = new();

    /// <summary>(timestamp when the answer arrived, messages counted) for each successful poll, in order; read it after polling stops.</summary>
    public List<(long Timestamp, long Messages)> Observations { get; } = [];

    private long _latestMessages;

    /// <summary>The last count seen; safe to read while <see cref="RunAsync"/> polls on another thread.</summary>
    public long LatestMessages => Volatile.Read(ref _latestMessages);

    public async Task<long?> PollAsync(CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        try
        {
            using var response = await edge.GetAsync(_path, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Polls.Record(Outcome.Failure(Operation, $"HTTP {(int)response.StatusCode}"), begin, Stopwatch.GetTimestamp());
                return null;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            var messages = json.RootElement.GetProperty("totals").GetProperty("messages").GetInt64();
            var end = Stopwatch.GetTimestamp();
            Polls.Record(Outcome.Success(Operation), begin, end);
            Observations.Add((end, messages));
            Volatile.Write(ref _latestMessages, messages);
            return messages;
        }
        catch (Exception ex) when (Outcome.TryDescribe(ex, cancellationToken, out var error))
        {
            Polls.Record(Outcome.Failure(Operation, error), begin, Stopwatch.GetTimestamp());
            return null;
        }
    }

    /// <summary>Polls every <paramref name="interval"/> until <paramref name="stop"/> is cancelled.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                await PollAsync(stop);
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping is the normal end of polling.
        }
    }

    /// <summary>Polls until the count reaches <paramref name="expected"/>; how long that took, or null at the deadline.</summary>
    public async Task<TimeSpan?> WaitForAsync(long expected, TimeSpan interval, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < deadline)
        {
            if (await PollAsync(cancellationToken) >= expected)
            {
                return Stopwatch.GetElapsedTime(started);
            }

            await Task.Delay(interval, cancellationToken);
        }

        return null;
    }

    /// <summary>Yesterday to tomorrow in UTC dates contains the current America/Chicago day whatever the hour.</summary>
    private static string UsagePath(DateTime utcNow)
    {
        var today = DateOnly.FromDateTime(utcNow);
        return string.Create(CultureInfo.InvariantCulture, $"usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}");
    }
}
