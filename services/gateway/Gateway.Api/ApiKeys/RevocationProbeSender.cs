using MassTransit;
using Microsoft.Extensions.Options;

namespace StitchFin.Gateway.ApiKeys;

/// <summary>A message the edge sends to its own revocation queue; it is never published, so no other instance sees it.</summary>
public sealed record RevocationProbe(DateTimeOffset SentAt);

/// <summary>
/// Sends a <see cref="RevocationProbe"/> every <see cref="EdgeApiKeyOptions.ConnectionProbeInterval"/>; each one heard
/// back moves <see cref="RevocationFeed.UpToDateAsOf"/> to its send time. Logs when the feed goes quiet and comes back.
/// </summary>
public sealed partial class RevocationProbeSender(
    IBus bus,
    RevocationFeed feed,
    TimeProvider time,
    IOptions<EdgeOptions> options,
    ILogger<RevocationProbeSender> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var apiKeys = options.Value.ApiKeys;
        var wasConnected = false;
        using var timer = new PeriodicTimer(apiKeys.ConnectionProbeInterval, time);
        try
        {
            do
            {
                // A probe that takes longer than this to send could not keep cached keys trusted anyway.
                await SendAsync(apiKeys.TrustWhileDisconnected, stoppingToken);
                if (feed.IsConnected != wasConnected)
                {
                    wasConnected = !wasConnected;
                    if (wasConnected)
                    {
                        LogConnected(logger);
                    }
                    else
                    {
                        LogDisconnected(logger, feed.UpToDateAsOf, apiKeys.TrustWhileDisconnected);
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task SendAsync(TimeSpan timeout, CancellationToken stoppingToken)
    {
        if (feed.Address is not { } address)
        {
            return;
        }

        // A send waits for the connection while the broker is away.
        using var expiry = new CancellationTokenSource(timeout, time);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, expiry.Token);
        try
        {
            var endpoint = await bus.GetSendEndpoint(address);
            await endpoint.Send(new RevocationProbe(time.GetUtcNow()), cancellation.Token);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // The probe not coming back is the signal; the reason is only worth a debug line.
            LogSendFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Revocations reach this edge; cached API keys are trusted for their full cache duration.")]
    private static partial void LogConnected(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revocations are not known to reach this edge since {UpToDateAsOf}; cached API keys are re-verified with tenancy after {TrustWhileDisconnected}.")]
    private static partial void LogDisconnected(ILogger logger, DateTimeOffset upToDateAsOf, TimeSpan trustWhileDisconnected);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A revocation probe could not be sent.")]
    private static partial void LogSendFailed(ILogger logger, Exception exception);
}
