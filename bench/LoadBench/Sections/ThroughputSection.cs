using StitchFin.LoadBench.Load;
using StitchFin.LoadBench.Reporting;
using StitchFin.LoadBench.Targets;

namespace StitchFin.LoadBench.Sections;

/// <summary>Section 1: N clients opening sessions and sending messages through the edge, closed loop.</summary>
public static class ThroughputSection
{
    private const int TargetClients = 32;
    private const double TargetMessagesPerSecond = 500;
    private const double TargetP99Ms = 30;

    public static async Task<LoadResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var options = context.Options;
        Progress.Write($"section 1: {options.Clients} clients, {options.Warmup.TotalSeconds:0} s warm-up + {options.Duration.TotalSeconds:0} s");
        using var edge = BenchHttp.ForEdge(context.System.EdgeUrl, context.Tenant.ApiKey, options.Clients);
        var workload = new EdgeConversationWorkload(edge, context.AgentId, options.Clients, options.MessagesPerSession);
        var result = await ClosedLoop.RunAsync(options.Clients, options.Warmup, options.Duration, workload.NextAsync, cancellationToken);
        context.CountAnswered(workload.MessagesAnswered);

        var output = context.Output;
        output.WriteLine("## 1. Throughput through the edge");
        output.WriteLine();
        output.WriteLine($"{options.Clients} clients, closed loop, {Format.Seconds(options.Duration)} measured after a {Format.Seconds(options.Warmup)} warm-up, "
            + $"vendors `{options.VendorMode}`. Each client opens a session, sends {options.MessagesPerSession} messages with unique "
            + "Idempotency-Keys, then opens another. Latencies are of successful requests (HdrHistogram, µs precision).");
        output.WriteLine();
        var table = BenchContext.LoadTable("Request");
        BenchContext.AddLoadRow(table, EdgeConversationWorkload.SendMessage, options.Clients, result, EdgeConversationWorkload.SendMessage);
        BenchContext.AddLoadRow(table, EdgeConversationWorkload.CreateSession, options.Clients, result, EdgeConversationWorkload.CreateSession);
        var all = LoadResult.Merge([new Dictionary<string, OperationStats> { ["all"] = Combined(result) }], result.Measured);
        BenchContext.AddLoadRow(table, "all requests", options.Clients, all, "all");
        table.WriteTo(output);

        AddTargets(context, result);
        return result;
    }

    private static OperationStats Combined(LoadResult result)
    {
        var combined = new OperationStats();
        foreach (var stats in result.Operations.Values)
        {
            combined.Add(stats);
        }

        return combined;
    }

    private static void AddTargets(BenchContext context, LoadResult result)
    {
        var options = context.Options;
        var messages = result[EdgeConversationWorkload.SendMessage];
        var latency = messages.Latencies.Summarize();
        var rate = result.PerSecond(EdgeConversationWorkload.SendMessage);
        var note = options.Clients == TargetClients ? null : $"measured at {options.Clients} clients";
        var applies = options.FastMode;
        if (!applies)
        {
            note = "the target is for fast vendors";
        }

        context.Targets.Add($"Messages/s at {TargetClients} clients (fast vendors)", $">= {TargetMessagesPerSecond:0}",
            Format.Rate(rate), applies ? rate >= TargetMessagesPerSecond : null, note);
        context.Targets.Add($"Message p99 at {TargetClients} clients (fast vendors)", $"<= {TargetP99Ms:0} ms",
            latency.HasData ? $"{Format.Ms(latency.P99)} ms" : Format.None,
            applies ? latency.HasData && latency.P99 <= TargetP99Ms && messages.ErrorCount == 0 : null,
            messages.ErrorCount == 0 ? note : $"{messages.ErrorCount} errors");
    }
}
