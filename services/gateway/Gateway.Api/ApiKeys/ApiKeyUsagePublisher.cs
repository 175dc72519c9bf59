using MassTransit;
using Microsoft.Extensions.Options;
using StitchFin.Contracts.Gateway;

namespace StitchFin.Gateway.ApiKeys;

/// <summary>
/// Publishes <see cref="ApiKeyUsed"/> at most once per key per interval, so tenancy keeps <c>lastUsedAt</c>
/// without a write per request. Uses that cannot be published (broker down) are retried at the next tick.
/// </summary>
public sealed partial class ApiKeyUsagePublisher(
    ApiKeyUsageTracker tracker,
    IBus bus,
    TimeProvider time,
    IOptions<EdgeOptions> options,
    ILogger<ApiKeyUsagePublisher> logger) : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ApiKeys.UsageInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await PublishPendingAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: report what is left while the bus (started before this service) is still up.
            await PublishPendingAsync(CancellationToken.None);
        }
    }

    public async Task PublishPendingAsync(CancellationToken cancellationToken)
    {
        var uses = tracker.Drain();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        for (var i = 0; i < uses.Count; i++)
        {
            var use = uses[i];
            try
            {
                var now = time.GetUtcNow();
                await bus.Publish(new ApiKeyUsed(Guid.CreateVersion7(now), use.TenantId, use.KeyId, use.LastUsedAt, now), timeout.Token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || timeout.IsCancellationRequested)
            {
                foreach (var unpublished in uses.Skip(i))
                {
                    tracker.Restore(unpublished);
                }

                LogPublishFailed(logger, uses.Count - i, ex);
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish {Count} API key usage reports; retrying at the next interval.")]
    private static partial void LogPublishFailed(ILogger logger, int count, Exception exception);
}
