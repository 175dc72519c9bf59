namespace StitchFin.FaultTests;

/// <summary>
/// A burst far past what the services take in at once: the excess is refused with 503 and Retry-After (never a 5xx
/// that leaves the outcome unknown, never a timeout), clients that wait as told and retry with the same key get every
/// message answered, and each is charged and stored once.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class OverloadTests(FaultSystem fixture)
{
    private StitchFinSystem System => fixture.System;

    [Fact]
    public async Task A_burst_far_past_the_admission_bounds_is_shed_with_retry_after_and_every_message_is_charged_once()
    {
        const int messages = 1000;
        var (tenant, sessions) = await FaultSteps.PrepareAsync(System, sessionCount: 8);
        var load = new MessageLoad(tenant, sessions);

        // 400 clients at once against 48 requests at work and 16 waiting at each hop.
        await load.RunAsync(messages, concurrency: 400, retryUntilSuccess: true, TimeSpan.FromMinutes(3));
        var answers = string.Join(", ", load.Statuses.Where(s => s.Key != 201).OrderBy(s => s.Key).Select(s => $"{s.Key} x{s.Value}"));
        fixture.Ledger.Fault($"overload: {messages:N0} messages from 400 clients at once, past bounds of 48 at work and 16 waiting (clients retry with the same key after Retry-After; other answers: {answers})");

        Assert.True(load.Statuses.GetValueOrDefault(503) > 0, $"nothing was shed: {answers}");
        Assert.All(load.Statuses.Keys, status => Assert.Contains(status, new[] { 201, 429, 503 }));
        Assert.Equal(0, load.RefusedWithoutRetryAfter);
        await FaultSteps.AssertExactUsageAsync(fixture.Ledger, tenant, load, expectedMessages: messages, TimeSpan.FromSeconds(60));
        var transcriptMessages = 0;
        foreach (var session in sessions)
        {
            transcriptMessages += (await tenant.WholeTranscriptAsync(session)).Count;
        }

        fixture.Ledger.DoubleCounted(Math.Max(0, transcriptMessages - (2 * messages)) / 2);
        Assert.Equal(2 * messages, transcriptMessages);
    }
}
