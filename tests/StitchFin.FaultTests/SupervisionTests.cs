using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace StitchFin.FaultTests;

/// <summary>
/// A service that dies without run.sh having been asked is started again by run.sh itself: the clients, retrying
/// with the same Idempotency-Key, get every message answered once and charged once, and never the 502 that means
/// "both providers failed".
/// </summary>
[Collection(FaultCollection.Name)]
public sealed partial class SupervisionTests(FaultSystem fixture)
{
    private StitchFinSystem System => fixture.System;

    [Fact]
    public async Task Conversation_crashing_under_load_is_restarted_by_run_sh_and_charges_each_retried_message_once()
    {
        var (tenant, sessions) = await FaultSteps.PrepareAsync(System, sessionCount: 4);
        var restartsBefore = Restarts(await System.StatusAsync(), "conversation");
        var load = new MessageLoad(tenant, sessions);
        var sending = load.RunAsync(300, concurrency: 8, retryUntilSuccess: true, TimeSpan.FromSeconds(150));

        await FaultSteps.WaitUntilAsync(() => load.Started >= 100, TimeSpan.FromMinutes(2), "100 messages under way");
        var crashed = System.ProcessId("conversation") ?? throw new InvalidOperationException("conversation has no pid on record");
        // SIGKILL from outside, as the kernel's out-of-memory killer would: run.sh is not asked.
        Process.GetProcessById(crashed).Kill();

        await FaultSteps.WaitUntilAsync(() => System.ProcessId("conversation") is { } pid && pid != crashed, TimeSpan.FromSeconds(30),
            "run.sh started conversation again by itself");
        await sending;
        var answers = string.Join(", ", load.Statuses.Where(s => s.Key != 201).OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}"));
        fixture.Ledger.Fault($"SIGKILL conversation from outside run.sh during 300 messages; run.sh restarted it (clients retry with the same key; other answers: {answers})");

        var status = await System.StatusAsync();
        Assert.Equal(restartsBefore + 1, Restarts(status, "conversation"));
        Assert.Contains(System.LogLines(), line => line.Contains($"conversation (pid {crashed}) exited unexpectedly (killed by SIGKILL)", StringComparison.Ordinal));
        // While conversation was down the edge answered 503 (not sent) or 504 (may have been carried out), never 502.
        Assert.DoesNotContain(502, load.Statuses.Keys);
        await FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, expectedMessages: 300, TimeSpan.FromSeconds(60));
        var transcriptMessages = 0;
        foreach (var session in sessions)
        {
            transcriptMessages += (await tenant.WholeTranscriptAsync(session)).Count;
        }

        fixture.Ledger.DoubleCounted(Math.Max(0, transcriptMessages - 600) / 2);
        Assert.Equal(600, transcriptMessages);
    }

    /// <summary>The restart count <c>./run.sh status</c> shows for a running service.</summary>
    private static int Restarts(string status, string service)
    {
        var line = status.Split('\n').SingleOrDefault(l => l.StartsWith($"{service}: running ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"run.sh status shows {service} not running: {status}");
        return int.Parse(RestartCount().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"restarts: (\d+)$")]
    private static partial Regex RestartCount();
}
