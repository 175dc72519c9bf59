using System.Collections.Frozen;
using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StitchFin.ServiceDefaults.Outbox;

/// <summary>Wakes the relay as soon as a transaction with outbox rows commits, instead of waiting for the next poll.</summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); } catch (SemaphoreFullException) { }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// Publishes outbox rows with publisher confirms and deletes each row once the broker has taken it. While the
/// broker is away rows stay put and the relay backs off; nothing is lost, and consumers deduplicate the rare
/// repeat (a crash between confirm and delete) by message id. Several instances share the table through
/// <c>FOR UPDATE SKIP LOCKED</c>.
/// </summary>
public sealed partial class OutboxRelay<TContext>(
    IServiceScopeFactory scopes,
    OutboxSignal signal,
    ILogger<OutboxRelay<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private const int BatchSize = 200;
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    // Under load a signal arrives for nearly every commit; waiting this long after one lets the rows of the
    // commits right behind it go in the same batch (one select, one delete, one commit) for a few ms of latency.
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(20);
    private static readonly ActivitySource Source = new($"{Telemetry.SourcePrefix}.Outbox");
    private static readonly FrozenDictionary<string, Type> ContractTypes = typeof(Contracts.Conversation.MessageCompleted).Assembly
        .GetExportedTypes().Where(t => t.FullName is not null).ToFrozenDictionary(t => t.FullName!);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await RelayBatchAsync(stoppingToken) == BatchSize) { }
                backoff = TimeSpan.FromMilliseconds(200);
                if (await signal.WaitAsync(PollInterval, stoppingToken))
                {
                    await Task.Delay(CoalesceWindow, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRelayFailed(ex.Message, backoff.TotalMilliseconds);
                await Task.Delay(backoff, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    /// <returns>How many rows were claimed, so a full batch is followed by another at once.</returns>
    private async Task<int> RelayBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var publisher = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();

        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var batch = await db.Set<OutboxMessage>()
                .FromSql($"SELECT * FROM outbox_messages ORDER BY id LIMIT {BatchSize} FOR UPDATE SKIP LOCKED")
                .AsNoTracking()
                .ToListAsync(ct);
            if (batch.Count == 0)
            {
                return 0;
            }

            var outcomes = await Task.WhenAll(batch.Select(message => TryPublishAsync(publisher, message, ct)));
            var published = batch.Where((_, i) => outcomes[i]).Select(m => m.Id).ToList();
            if (published.Count > 0)
            {
                await db.Set<OutboxMessage>().Where(m => published.Contains(m.Id)).ExecuteDeleteAsync(ct);
            }

            await transaction.CommitAsync(ct);
            if (published.Count < batch.Count)
            {
                throw new InvalidOperationException($"{batch.Count - published.Count} of {batch.Count} outbox messages were not confirmed by the broker");
            }

            return batch.Count;
        }, cancellationToken);
    }

    private async Task<bool> TryPublishAsync(IPublishEndpoint publisher, OutboxMessage message, CancellationToken cancellationToken)
    {
        if (!ContractTypes.TryGetValue(message.MessageType, out var type))
        {
            LogUnknownType(message.MessageType, message.Id);
            return false;
        }

        ActivityContext.TryParse(message.TraceParent, null, out var parent);
        using var activity = Source.StartActivity("outbox publish", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.message.id", message.MessageId);
        activity?.SetTag("messaging.message.type", type.Name);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(PublishTimeout);
            var body = JsonSerializer.Deserialize(message.Payload, type, Extensions.JsonOptions)!;
            await publisher.Publish(body, type, context => context.MessageId = message.MessageId, timeout.Token);
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay could not publish ({Reason}); retrying in {BackoffMs} ms")]
    private partial void LogRelayFailed(string reason, double backoffMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox message {Id} has unknown type {Type}; it stays in the table")]
    private partial void LogUnknownType(string type, long id);
}

public static class OutboxExtensions
{
    /// <summary>The outbox relay for <typeparamref name="TContext"/>; call after AddServiceDatabase and AddMessaging.</summary>
    public static IServiceCollection AddOutboxRelay<TContext>(this IServiceCollection services)
        where TContext : DbContext
    {
        services.AddSingleton<OutboxSignal>();
        services.AddHostedService<OutboxRelay<TContext>>();
        return services;
    }
}
