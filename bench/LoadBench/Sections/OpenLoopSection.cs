using System.Globalization;
using System.Net;
using StitchFin.LoadBench.Load;
using StitchFin.LoadBench.Reporting;
using StitchFin.LoadBench.Targets;

namespace StitchFin.LoadBench.Sections;

/// <summary>
/// The open-loop mode: messages through the edge at fixed rates, phase after phase (<see cref="OpenLoop"/>), one row
/// per interval (offered, completed, shed by status, timeouts, errors, latency from the due time, each service's RSS
/// at the interval's end) and a summary per phase.
/// </summary>
public static class OpenLoopSection
{
    public const string Heading = "## Open loop: offered rate in phases";
    private const double OverloadFactor = 2;
    private const double GoodputShareTarget = 0.9;
    private const double ShedP99TargetMs = 100;
    private const double RecoveredP99Ms = 200;
    private static readonly TimeSpan RecoveryTarget = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(BenchContext context, MemorySection memory, CancellationToken cancellationToken)
    {
        var options = context.Options.OpenLoop ?? throw new InvalidOperationException("Not an open-loop run.");
        var settings = options.Settings;

        Progress.Write($"open loop: opening {options.Sessions} sessions");
        var sessions = new Guid[options.Sessions];
        await Parallel.ForAsync(0, sessions.Length, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, _) => sessions[i] = (await context.Tenant.CreateSessionAsync(context.AgentId))["id"]!.GetValue<Guid>());

        using var edge = BenchHttp.ForEdge(context.System.EdgeUrl, context.Tenant.ApiKey, settings.MaxInFlight);

        // The per-request timeout is the driver's; the client's own must never come first.
        edge.Timeout = Timeout.InfiniteTimeSpan;
        long answered = 0;

        async Task<Answer> SendMessageAsync(ScheduledSend send, CancellationToken token)
        {
            // Off the scheduling loop at once, so a slow start of one send never delays the next one's.
            await Task.Yield();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"sessions/{sessions[send.Sequence % sessions.Length]}/messages")
            {
                Content = BenchHttp.JsonBody(EdgeConversationWorkload.MessageBody),
            };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
            using var response = await edge.SendAsync(request, token);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                Interlocked.Increment(ref answered);
            }

            return Answer.FromResponse(response);
        }

        // A cold system's first requests (JIT, new connections) take seconds; they would be the first phase's first rows.
        var warmup = new LoadPhase("warm-up", options.Phases[0].Rate, context.Options.Warmup);
        Progress.Write($"open loop: warm-up, {warmup.Rate:0.#}/s for {Format.Seconds(warmup.Duration)} (not reported)");
        await OpenLoop.RunAsync([warmup], settings, SendMessageAsync, cancellationToken);

        Progress.Write($"open loop: {string.Join(", ", options.Phases.Select(p => $"{p.Label} ({p.Rate:0.#}/s) for {Format.Seconds(p.Duration)}"))}");
        var result = await OpenLoop.RunAsync(options.Phases, settings, SendMessageAsync, cancellationToken, sampleAtIntervalEnd: memory.CurrentRss);
        context.CountAnswered(Interlocked.Read(ref answered));

        var output = context.Output;
        output.WriteLine(Heading);
        output.WriteLine();
        output.WriteLine($"Messages (`{EdgeConversationWorkload.SendMessage}`, unique Idempotency-Keys, spread over {options.Sessions} sessions opened "
            + $"before) through the edge at fixed rates, open loop: each is due at an exact time and sent then, whether or not earlier "
            + $"ones have answered, after an unreported warm-up of {Format.Seconds(context.Options.Warmup)} at the first phase's rate (at most {settings.MaxInFlight:N0} waiting; one due beyond that is 'not sent'). "
            + (options.Capacity is { } capacity ? $"100 % is {capacity:0.#} messages/s. " : "")
            + $"A message not answered {Format.Seconds(settings.RequestTimeout)} after it was sent is a timeout. Each row is a "
            + $"{Format.Seconds(settings.Interval)} interval and counts the messages due in it, however late they answered; latency "
            + "is from the due time (so a late send counts its wait), p50/p99 of the 2xx answers; 429 and 503 show in brackets how many "
            + "carried Retry-After; errors are other statuses and transport failures; 'sent late' is how long after its due time a "
            + "message went out (the load generator's own lag, already inside the latency); RSS (MiB) is each service's VmRSS at the "
            + "interval's end.");
        output.WriteLine();
        IntervalTable(result).WriteTo(output);
        output.WriteLine("Per phase: goodput is 2xx answers per second of the phase; shed p99 is the latency of the 429 and 503 answers.");
        output.WriteLine();
        PhaseTable(result, options.Capacity).WriteTo(output);
        AddTargets(context, result, options.Capacity);
    }

    public static MarkdownTable IntervalTable(OpenLoopResult result)
    {
        var headers = new List<string> { "Phase", "Interval s", "Offered/s>", "Completed/s>", "429 (RA)>", "503 (RA)>", "Timeouts>", "Errors>", "Not sent>", "p50 ms>", "p99 ms>", "Sent late p99 ms>" };
        headers.AddRange(MemorySection.Services.Select(s => $"{s} MB>"));
        var table = new MarkdownTable([.. headers]);
        foreach (var phase in result.Phases)
        {
            foreach (var interval in phase.Intervals)
            {
                var latency = interval.CompletedLatency();
                var cells = new List<string>
                {
                    phase.Phase.Label,
                    $"{interval.Start.TotalSeconds:0.#}–{interval.End.TotalSeconds:0.#}",
                    Format.Rate(interval.Offered / interval.Length.TotalSeconds),
                    Format.Rate(interval.Count(AnswerKind.Completed) / interval.Length.TotalSeconds),
                    Shed(interval, AnswerKind.Shed429),
                    Shed(interval, AnswerKind.Shed503),
                    Format.Count(interval.Count(AnswerKind.Timeout)),
                    Format.Count(ErrorCount(interval)),
                    Format.Count(interval.Count(AnswerKind.NotSent)),
                    Format.Ms(latency.P50),
                    Format.Ms(latency.P99),
                    Format.Ms(interval.SendLateness().P99),
                };
                cells.AddRange(MemorySection.Services.Select(s => Format.Mb(interval.Sample?.GetValueOrDefault(s, -1) ?? -1)));
                table.Add([.. cells]);
            }
        }

        return table;
    }

    public static MarkdownTable PhaseTable(OpenLoopResult result, double? capacity)
    {
        var table = new MarkdownTable("Phase", "Offered/s>", "Length s>", "Goodput/s>", "Goodput % of capacity>", "Shed>", "Shed with Retry-After>",
            "Timeouts>", "Not sent>", "p50 ms>", "p99 ms>", "Shed p99 ms>", "Errors");
        foreach (var phase in result.Phases)
        {
            var total = phase.Total();
            var seconds = phase.Phase.Duration.TotalSeconds;
            var goodput = total.Count(AnswerKind.Completed) / seconds;
            var shed = total.Count(AnswerKind.Shed429) + total.Count(AnswerKind.Shed503);
            var withRetryAfter = total.CountWithRetryAfter(AnswerKind.Shed429) + total.CountWithRetryAfter(AnswerKind.Shed503);
            var latency = total.CompletedLatency();
            var errors = total.Errors;
            table.Add(
                phase.Phase.Label,
                Format.Rate(total.Offered / seconds),
                $"{seconds:0.#}",
                Format.Rate(goodput),
                capacity is { } c ? $"{100 * goodput / c:0.0} %" : Format.None,
                Format.Count(shed),
                shed == 0 ? Format.None : $"{100.0 * withRetryAfter / shed:0.0} %",
                Format.Count(total.Count(AnswerKind.Timeout)),
                Format.Count(total.Count(AnswerKind.NotSent)),
                Format.Ms(latency.P50),
                Format.Ms(latency.P99),
                Format.Ms(total.ShedLatency().P99),
                errors.Count == 0 ? "0" : $"{errors.Values.Sum()} ({string.Join(", ", errors.OrderByDescending(e => e.Value).Select(e => $"{e.Key} ×{e.Value}"))})");
        }

        return table;
    }

    private static string Shed(IntervalStats interval, AnswerKind kind) =>
        $"{Format.Count(interval.Count(kind))} ({Format.Count(interval.CountWithRetryAfter(kind))})";

    private static long ErrorCount(IntervalStats interval) =>
        interval.Count(AnswerKind.ServerError) + interval.Count(AnswerKind.OtherStatus) + interval.Count(AnswerKind.TransportError);

    /// <summary>Issue 27's overload targets, for each phase offering at least twice the capacity and the phase after it.</summary>
    private static void AddTargets(BenchContext context, OpenLoopResult result, double? capacity)
    {
        if (capacity is not { } c)
        {
            return;
        }

        for (var p = 0; p < result.Phases.Count; p++)
        {
            var phase = result.Phases[p];
            if (phase.Phase.Rate < OverloadFactor * c)
            {
                continue;
            }

            var total = phase.Total();
            var goodput = total.Count(AnswerKind.Completed) / phase.Phase.Duration.TotalSeconds;
            context.Targets.Add($"Goodput at {phase.Phase.Label} offered", $">= {GoodputShareTarget * 100:0} % of {c:0.#}/s",
                $"{Format.Rate(goodput)}/s ({100 * goodput / c:0.0} %)", goodput >= GoodputShareTarget * c);

            var rest = total.Offered - total.Count(AnswerKind.Completed);
            var shedWithRetryAfter = total.CountWithRetryAfter(AnswerKind.Shed429) + total.CountWithRetryAfter(AnswerKind.Shed503);
            var shedP99 = total.ShedLatency().P99;
            context.Targets.Add($"The rest at {phase.Phase.Label}: 429/503 with Retry-After within {ShedP99TargetMs:0} ms",
                $"all {rest:N0}, p99 <= {ShedP99TargetMs:0} ms",
                $"{shedWithRetryAfter:N0} with Retry-After, p99 {Format.Ms(shedP99)} ms",
                rest == 0 || (shedWithRetryAfter == rest && shedP99 <= ShedP99TargetMs));

            if (p + 1 < result.Phases.Count)
            {
                var next = result.Phases[p + 1];
                var recovered = Recovery(next);
                context.Targets.Add($"p99 back under {RecoveredP99Ms:0} ms after {phase.Phase.Label}", $"<= {RecoveryTarget.TotalSeconds:0} s",
                    recovered is { } r ? $"{r.TotalSeconds:0.#} s (interval resolution)" : "not within the phase",
                    recovered is { } within && within <= RecoveryTarget);
            }
        }
    }

    /// <summary>From the phase's start to the start of the first interval from which every interval's p99 is under the bound.</summary>
    private static TimeSpan? Recovery(PhaseStats phase)
    {
        TimeSpan? since = null;
        foreach (var interval in phase.Intervals)
        {
            var latency = interval.CompletedLatency();
            var good = latency.HasData && latency.P99 <= RecoveredP99Ms;
            since = good ? since ?? interval.Start - phase.Start : null;
        }

        return since;
    }
}
