using System.Globalization;
using System.Text.RegularExpressions;
using StitchFin.LoadBench.Sections;

namespace StitchFin.LoadBench.Tests;

/// <summary>
/// Runs the load benchmark briefly against a real copy of the system, so a change that breaks it fails CI. It checks
/// what the run reports and that nothing failed; never how fast anything was.
/// </summary>
public sealed partial class LoadBenchSmokeTests
{
    private static readonly string[] Services = ["gateway", "tenancy", "conversation", "providers", "voice", "metering"];

    [Fact]
    public async Task A_short_run_reports_every_section_without_errors()
    {
        Assert.True(BenchOptions.TryParse(
            ["--quick", "--clients", "4", "--warmup", "2", "--duration", "3", "--messages-per-session", "2", "--hop-duration", "1", "--metering-rate", "20", "--metering-duration", "5"],
            out var options, out var problem), problem);
        using var output = new StringWriter();

        var exitCode = await Bench.RunAsync(options!, output, CancellationToken.None);

        var report = output.ToString();
        Assert.True(exitCode == 0, report);
        foreach (var heading in new[] { "## 1. Throughput through the edge", "## 2. Per-hop latency", "## 3. Metering lag", "## 4. Memory (RSS) per service", "## 5. Streaming: time to first token", "## Targets" })
        {
            Assert.Contains(heading, report);
        }

        var requestRows = RequestRow().Matches(report);
        Assert.NotEmpty(requestRows);
        Assert.All(requestRows, row => Assert.True(row.Groups["ok"].Value.Replace(",", "") != "0" && row.Groups["errors"].Value == "0", row.Value));
        Assert.Matches(@"\| metering lag [^\n]*\| 0 not visible within", report);
        Assert.All(Services, service => Assert.Matches($@"\| {service} +\| +\d+ \|", report));
        Assert.Matches(@"\| upstream direct +\| +[1-9][\d,]* \|", report);
        Assert.Matches(@"\| edge → conversation → providers → upstream +\| +[1-9][\d,]* \|", report);
        Assert.DoesNotMatch(@"Streaming time to first token[^\n]*errors\)", report);
    }

    [Fact]
    public async Task A_short_open_loop_run_reports_every_interval_without_errors()
    {
        Assert.True(BenchOptions.TryParse(
            ["--open-loop", "--phases", "20/s:2s", "--interval", "1s", "--warmup", "1", "--sessions", "4"],
            out var options, out var problem), problem);
        using var output = new StringWriter();

        var exitCode = await Bench.RunAsync(options!, output, CancellationToken.None);

        var report = output.ToString();
        Assert.True(exitCode == 0, report);
        Assert.Contains(OpenLoopSection.Heading, report);
        Assert.Contains("## 4. Memory (RSS) per service", report);
        Assert.DoesNotContain("## 1. Throughput through the edge", report);

        // Two 1 s intervals of 20 messages each: every one answered (completed > 0), none shed, timed out, failed or not sent,
        // and every service's RSS read at the interval's end.
        var rows = IntervalRow().Matches(report);
        Assert.Equal(["0–1", "1–2"], rows.Select(r => r.Groups["interval"].Value));
        Assert.All(rows, row =>
        {
            Assert.Equal("20.0", row.Groups["offered"].Value);
            Assert.NotEqual("0.0", row.Groups["completed"].Value);
            Assert.True(Cells(row, "trouble").All(c => c is "0 (0)" or "0"), row.Value);
            Assert.True(Cells(row, "rss").Count(c => double.TryParse(c, CultureInfo.InvariantCulture, out _)) == Services.Length, row.Value);
        });
        Assert.Matches(@"\| 20/s +\| +20\.0 \| +2 \| +[1-9][\d.]* \|", report);
    }

    private static string[] Cells(Match row, string group) =>
        row.Groups[group].Value.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // An interval row of the open-loop section: phase, interval, offered/s, completed/s, 429, 503, timeouts, errors,
    // not sent, p50, p99, sent late p99, then one RSS per service.
    [GeneratedRegex(@"^\| 20/s +\| (?<interval>[\d.]+–[\d.]+) +\| +(?<offered>[\d.]+) \| +(?<completed>[\d.]+) \|(?<trouble>(?:[^|]*\|){5})(?:[^|]*\|){3}(?<rss>(?:[^|]*\|){6})$", RegexOptions.Multiline)]
    private static partial Regex IntervalRow();

    // A request row of sections 1 and 2: path, connections, OK count, rate, four latencies, errors.
    [GeneratedRegex(@"^\| (?:POST|GET|providers|tenancy|edge)[^|]*\|[^|]*\| *(?<ok>[\d,]+) \|(?:[^|]*\|){5} *(?<errors>[^|]*?) *\|$", RegexOptions.Multiline)]
    private static partial Regex RequestRow();
}
