using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StitchFin.Conversation.Data;

namespace StitchFin.Conversation.Idempotency;

/// <summary>Deletes idempotency records whose retention has passed, every <see cref="IdempotencyOptions.CleanupInterval"/>.</summary>
public sealed partial class IdempotencyCleanupService(
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<IdempotencyOptions> options,
    ILogger<IdempotencyCleanupService> logger) : BackgroundService
{
    public async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ConversationDbContext>();
        var now = time.GetUtcNow();
        return await db.IdempotencyRecords.Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var deleted = await DeleteExpiredAsync(stoppingToken);
                    LogDeleted(deleted);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next tick tries again; an expired key left a little longer does no harm.
                    LogFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Deleted {Count} expired idempotency records")]
    private partial void LogDeleted(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete expired idempotency records: {Reason}")]
    private partial void LogFailed(string reason);
}
