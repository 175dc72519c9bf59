using System.Globalization;
using StitchFin.LoadBench.Load;
using StitchFin.LoadBench.Reporting;
using StitchFin.Testing;

namespace StitchFin.LoadBench;

/// <summary>The running system and the tenant the sections share, plus where their results go.</summary>
public sealed class BenchContext(BenchOptions options, StitchFinSystem system, Tenant tenant, Guid agentId, string signingKey, TextWriter output)
{
    private long _messagesAnswered;

    public BenchOptions Options { get; } = options;

    public StitchFinSystem System { get; } = system;

    public Tenant Tenant { get; } = tenant;

    public Guid AgentId { get; } = agentId;

    /// <summary>The Identity:SigningKey the system was started with, so the bench can call services directly.</summary>
    public string SigningKey { get; } = signingKey;

    public TextWriter Output { get; } = output;

    public TargetReport Targets { get; } = new();

    /// <summary>Messages answered 201 for <see cref="Tenant"/> so far: the count its usage must reach.</summary>
    public long MessagesAnswered => Interlocked.Read(ref _messagesAnswered);

    public void CountAnswered(long messages) => Interlocked.Add(ref _messagesAnswered, messages);

    /// <summary>One row of a load table: requests, rate and latency percentiles of the successful requests, errors.</summary>
    public static void AddLoadRow(MarkdownTable table, string label, int connections, LoadResult result, string operation)
    {
        var stats = result[operation];
        var latency = stats.Latencies.Summarize();
        table.Add(label, connections.ToString(CultureInfo.InvariantCulture), Format.Count(stats.Successes),
            Format.Rate(result.PerSecond(operation)), Format.Ms(latency.P50), Format.Ms(latency.P90), Format.Ms(latency.P99),
            Format.Ms(latency.Max), Format.Errors(stats));
    }

    public static MarkdownTable LoadTable(string firstColumn) =>
        new(firstColumn, "Conns>", "OK>", "Req/s>", "p50 ms>", "p90 ms>", "p99 ms>", "max ms>", "Errors");
}
