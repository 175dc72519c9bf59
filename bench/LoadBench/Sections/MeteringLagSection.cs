using System.Diagnostics;
using System.Net;
using StitchFin.LoadBench.Load;
using StitchFin.LoadBench.Reporting;
using StitchFin.LoadBench.Targets;
using StitchFin.Testing;

namespace StitchFin.LoadBench.Sections;

/// <summary>
/// Section 3: messages at a fixed rate (open loop, spread over many sessions so none serializes them) for a fresh tenant while <c>/usage</c> is polled; the k-th message
/// to be answered counts as metered when a poll first shows at least k messages.
/// </summary>
public static class MeteringLagSection
{
    private const int TargetRate = 200;
    private const double TargetP99Ms = 1000;
    private const int Sessions = 50;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan CatchUpDeadline = TimeSpan.FromSeconds(60);

    private readonly record struct Sent(Outcome Outcome, long Begin, long End);

    public static async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var output = context.Output;

        // Events from sections 1 and 2 still queued in metering would delay this run's events behind them.
        Progress.Write($"section 3: waiting for metering to count the {context.MessagesAnswered} messages of sections 1-2");
        using var backlogClient = BenchHttp.ForEdge(context.System.EdgeUrl, context.Tenant.ApiKey, 1);
        var backlog = await new UsagePoller(backlogClient).WaitForAsync(context.MessagesAnswered, PollInterval, CatchUpDeadline, cancellationToken);

        var tenant = await Tenant.CreateAsync(context.System, "LoadBench metering");
        var agentId = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var sessions = new Guid[Sessions];
        for (var i = 0; i < Sessions; i++)
        {
            sessions[i] = (await tenant.CreateSessionAsync(agentId))["id"]!.GetValue<Guid>();
        }

        using var edge = BenchHttp.ForEdge(context.System.EdgeUrl, tenant.ApiKey, int.MaxValue);
        using var pollClient = BenchHttp.ForEdge(context.System.EdgeUrl, tenant.ApiKey, 1);
        var poller = new UsagePoller(pollClient);
        using var stopPolling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var polling = poller.RunAsync(PollInterval, stopPolling.Token);

        Sent[] sent;
        Sent[] answered;
        TimeSpan sendingTook;
        try
        {
            Progress.Write($"section 3: {options.MeteringRate} messages/s for {options.MeteringDuration.TotalSeconds:0} s");
            (sent, sendingTook) = await SendAtFixedRateAsync(edge, sessions, options, cancellationToken);
            answered = sent.Where(s => s.Outcome.Succeeded).OrderBy(s => s.End).ToArray();
            var catchingUp = Stopwatch.StartNew();
            while (poller.LatestMessages < answered.Length && catchingUp.Elapsed < CatchUpDeadline)
            {
                await Task.Delay(PollInterval, cancellationToken);
            }
        }
        finally
        {
            await stopPolling.CancelAsync();
            await polling;
        }

        var (lag, missing) = Attribute(answered, poller.Observations);
        var messages = new OperationStats();
        foreach (var s in sent)
        {
            messages.Record(s.Outcome, s.Begin, s.End);
        }

        output.WriteLine("## 3. Metering lag");
        output.WriteLine();
        output.WriteLine($"A fresh tenant sends {options.MeteringRate} messages/s for {Format.Seconds(options.MeteringDuration)} through the edge "
            + $"(open loop, {Sessions} sessions, achieved {sent.Length / sendingTook.TotalSeconds:0.0}/s) while `GET /usage` is polled every "
            + $"{PollInterval.TotalMilliseconds:0} ms; lag is from a message's 201 to the first poll whose `totals.messages` covers it. "
            + (backlog is { } took
                ? $"Before it, metering had counted all {context.MessagesAnswered:N0} messages of sections 1-2 {took.TotalSeconds:0.00} s after they ended."
                : $"Metering had NOT counted the {context.MessagesAnswered:N0} messages of sections 1-2 within {Format.Seconds(CatchUpDeadline)}."));
        output.WriteLine();
        var table = new MarkdownTable("Measure", "Count>", "p50 ms>", "p90 ms>", "p99 ms>", "max ms>", "Errors / missing");
        Row(table, $"message answer (`{EdgeConversationWorkload.SendMessage}`)", messages.Latencies.Summarize(), Format.Errors(messages));
        Row(table, "metering lag (201 → visible in `/usage`)", lag.Summarize(), $"{missing} not visible within {Format.Seconds(CatchUpDeadline)}");
        Row(table, $"usage poll (`{UsagePoller.Operation}`)", poller.Polls.Latencies.Summarize(), Format.Errors(poller.Polls));
        table.WriteTo(output);

        var summary = lag.Summarize();
        var note = options.MeteringRate == TargetRate ? null : $"measured at {options.MeteringRate} msg/s";
        context.Targets.Add($"Metering lag p99 at {TargetRate} msg/s", $"<= {TargetP99Ms / 1000:0} s",
            summary.HasData ? $"{Format.Ms(summary.P99)} ms" : Format.None,
            summary.HasData && summary.P99 <= TargetP99Ms && missing == 0,
            missing == 0 ? note : $"{missing} messages never metered");
    }

    private static void Row(MarkdownTable table, string label, LatencySummary latency, string errors) =>
        table.Add(label, Format.Count(latency.Count), Format.Ms(latency.P50), Format.Ms(latency.P90), Format.Ms(latency.P99), Format.Ms(latency.Max), errors);

    /// <summary>Starts a message every 1/rate seconds on schedule, without waiting for earlier ones to answer.</summary>
    private static async Task<(Sent[] Sent, TimeSpan Took)> SendAtFixedRateAsync(
        HttpClient edge, Guid[] sessions, BenchOptions options, CancellationToken cancellationToken)
    {
        var total = (int)(options.MeteringRate * options.MeteringDuration.TotalSeconds);
        var sends = new Task<Sent>[total];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / options.MeteringRate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            sends[i] = SendOneAsync(edge, sessions[i % sessions.Length], cancellationToken);
        }

        var took = Stopwatch.GetElapsedTime(start);
        return (await Task.WhenAll(sends), took);
    }

    private static async Task<Sent> SendOneAsync(HttpClient edge, Guid session, CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"sessions/{session}/messages") { Content = BenchHttp.JsonBody(EdgeConversationWorkload.MessageBody) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        var outcome = await Requests.SendAsync(EdgeConversationWorkload.SendMessage, edge, request, HttpStatusCode.Created, cancellationToken);
        return new Sent(outcome, begin, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// The k-th answered message is metered at the first poll showing at least k messages. Metering may count a
    /// message before the client has its answer; that lag is zero, not negative.
    /// </summary>
    private static (Latencies Lag, int Missing) Attribute(Sent[] answeredInOrder, List<(long Timestamp, long Messages)> observations)
    {
        var lag = new Latencies();
        var missing = 0;
        var poll = 0;
        for (var k = 1; k <= answeredInOrder.Length; k++)
        {
            while (poll < observations.Count && observations[poll].Messages < k)
            {
                poll++;
            }

            if (poll == observations.Count)
            {
                missing = answeredInOrder.Length - k + 1;
                break;
            }

            var answeredAt = answeredInOrder[k - 1].End;
            lag.Record(observations[poll].Timestamp > answeredAt ? Stopwatch.GetElapsedTime(answeredAt, observations[poll].Timestamp) : TimeSpan.Zero);
        }

        return (lag, missing);
    }
}
