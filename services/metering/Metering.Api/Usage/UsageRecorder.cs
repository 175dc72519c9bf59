using System.Threading.Channels;
using Npgsql;
using StitchFin.Metering.Data;
using StitchFin.ServiceDefaults.Data;

namespace StitchFin.Metering.Usage;

/// <summary>
/// Group commit for the consumer: events that arrive while a write is in flight go to the database together, as
/// one batch of <see cref="UsageRollupSql.RecordOnce"/> statements in one implicit transaction (one round trip,
/// one commit). Under load many events update the same tenant-day rows; written one transaction each they would
/// queue on those rows' locks and pay a commit each. Each event still gets its own answer (counted or duplicate)
/// and its own failure, so the consumer acknowledges, retries and dead-letters messages one by one.
/// </summary>
public sealed class UsageRecorder(IServiceScopeFactory scopes) : BackgroundService
{
    /// <summary>At most the consumer's concurrency can wait at once; the cap only bounds a statement list.</summary>
    private const int MaxBatch = 64;

    private readonly Channel<PendingEntry> _pending = Channel.CreateUnbounded<PendingEntry>(new UnboundedChannelOptions { SingleReader = true });

    /// <returns>True when the event was counted, false when its id had been counted before.</returns>
    public Task<bool> RecordAsync(UsageEntry entry, DateTimeOffset processedAt, CancellationToken cancellationToken)
    {
        var pending = new PendingEntry(entry, processedAt, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_pending.Writer.TryWrite(pending))
        {
            throw new OperationCanceledException("Usage recording has stopped.");
        }

        return pending.Counted.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingEntry>(MaxBatch);
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                await WriteAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        finally
        {
            _pending.Writer.TryComplete();
            var stopped = new OperationCanceledException("Usage recording has stopped.");
            foreach (var pending in batch)
            {
                pending.Counted.TrySetException(stopped);
            }

            while (_pending.Reader.TryRead(out var pending))
            {
                pending.Counted.TrySetException(stopped);
            }
        }
    }

    private async Task WriteAsync(List<PendingEntry> batch, CancellationToken cancellationToken)
    {
        // Every writer takes the rows' locks in key order, so two metering instances cannot deadlock on them.
        batch.Sort(static (a, b) => UsageEntry.LockOrder.Compare(a.Entry, b.Entry));
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<MeteringDbContext>();
            var counted = await db.WithConnectionAsync(batch, static async (connection, batch, ct) =>
            {
                // Without an explicit transaction a batch runs as one implicit transaction: all of it or none.
                await using var command = new NpgsqlBatch(connection);
                foreach (var pending in batch)
                {
                    command.BatchCommands.Add(UsageRollupSql.BatchCommand(pending.Entry, pending.ProcessedAt));
                }

                await command.ExecuteNonQueryAsync(ct);
                var answers = new bool[batch.Count];
                for (var i = 0; i < answers.Length; i++)
                {
                    answers[i] = command.BatchCommands[i].RecordsAffected == 1;
                }

                return answers;
            }, cancellationToken);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Counted.TrySetResult(counted[i]);
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Counted.TrySetException(ex);
            }
        }
    }

    private sealed record PendingEntry(UsageEntry Entry, DateTimeOffset ProcessedAt, TaskCompletionSource<bool> Counted);
}
