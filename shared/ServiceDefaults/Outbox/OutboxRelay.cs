using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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

/// <summary>What the relay does with an event that no queue is bound to receive.</summary>
public enum UnroutableEvents
{
    /// <summary>
    /// Publish it as mandatory and keep the row until a queue takes it: an event someone must count (usage) is never
    /// confirmed into nowhere, for example while a stopped consumer's queue has been deleted.
    /// </summary>
    Keep,

    /// <summary>Let the broker drop it: an event only running listeners care about (an edge's cache) is moot without them.</summary>
    Discard,
}

/// <summary>
/// Publishes outbox rows with publisher confirms and deletes each row once the broker has taken it. While the
/// broker is away, or (with <see cref="UnroutableEvents.Keep"/>) no queue is bound for an event, rows stay put and
/// the relay backs off; nothing is lost, and consumers deduplicate the rare repeat (a crash between confirm and
/// delete) by message id. A row the relay cannot read (a type it does not know, a payload that does not parse) is
/// retried a few times, in case a newer instance that knows it relays it, then parked and reported, and never holds
/// up the rows behind it. Several instances share the table through <c>FOR UPDATE SKIP LOCKED</c>.
/// </summary>
public sealed partial class OutboxRelay<TContext>(
    IServiceScopeFactory scopes,
    OutboxSignal signal,
    UnroutableEvents unroutable,
    TimeProvider time,
    ILogger<OutboxRelay<TContext>> logger) : BackgroundService
    where TContext : DbContext
{
    private const int BatchSize = 200;

    /// <summary>Unreadable rows are parked after this many tries.</summary>
    public const int AttemptsBeforeParking = 5;

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    // Under load a signal arrives for nearly every commit; waiting this long after one lets the rows of the
    // commits right behind it go in the same batch (one select, one delete, one commit) for a few ms of latency.
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(20);
    private static readonly ActivitySource Source = new($"{Telemetry.SourcePrefix}.Outbox");
    private static readonly FrozenDictionary<string, Type> ContractTypes = typeof(Contracts.Conversation.MessageCompleted).Assembly
        .GetExportedTypes().Where(t => t.FullName is not null).ToFrozenDictionary(t => t.FullName!);

    private enum Outcome
    {
        Published,
        NotTaken,
        Unreadable,
    }

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
                .FromSql($"SELECT * FROM outbox_messages WHERE parked_at IS NULL ORDER BY id LIMIT {BatchSize} FOR UPDATE SKIP LOCKED")
                .AsNoTracking()
                .ToListAsync(ct);
            if (batch.Count == 0)
            {
                return 0;
            }

            var outcomes = await Task.WhenAll(batch.Select(message => PublishAsync(publisher, message, ct)));
            var published = RowsWith(Outcome.Published);
            if (published.Count > 0)
            {
                await db.Set<OutboxMessage>().Where(m => published.Contains(m.Id)).ExecuteDeleteAsync(ct);
            }

            var unreadable = RowsWith(Outcome.Unreadable);
            if (unreadable.Count > 0)
            {
                await CountFailedAttemptsAsync(db, batch.Where(m => unreadable.Contains(m.Id)), ct);
            }

            await transaction.CommitAsync(ct);
            var notTaken = batch.Count - published.Count - unreadable.Count;
            if (notTaken > 0)
            {
                throw new InvalidOperationException($"{notTaken} of {batch.Count} outbox messages were not taken by the broker");
            }

            return batch.Count;

            List<long> RowsWith(Outcome outcome) => batch.Where((_, i) => outcomes[i] == outcome).Select(m => m.Id).ToList();
        }, cancellationToken);
    }

    private async Task CountFailedAttemptsAsync(DbContext db, IEnumerable<OutboxMessage> rows, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var row in rows)
        {
            var attempts = row.FailedAttempts + 1;
            var parkedAt = attempts >= AttemptsBeforeParking ? now : (DateTimeOffset?)null;
            await db.Set<OutboxMessage>().Where(m => m.Id == row.Id).ExecuteUpdateAsync(
                update => update.SetProperty(m => m.FailedAttempts, attempts).SetProperty(m => m.ParkedAt, parkedAt), cancellationToken);
            if (parkedAt is not null)
            {
                LogParked(row.Id, row.MessageType, attempts);
            }
        }
    }

    private async Task<Outcome> PublishAsync(IPublishEndpoint publisher, OutboxMessage message, CancellationToken cancellationToken)
    {
        if (!TryRead(message, out var type, out var body))
        {
            return Outcome.Unreadable;
        }

        ActivityContext.TryParse(message.TraceParent, null, out var parent);
        using var activity = Source.StartActivity("outbox publish", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.message.id", message.MessageId);
        activity?.SetTag("messaging.message.type", type.Name);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(PublishTimeout);
            await publisher.Publish(body, type, context =>
            {
                context.MessageId = message.MessageId;
                context.Mandatory = unroutable == UnroutableEvents.Keep;
            }, timeout.Token);
            return Outcome.Published;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            return Outcome.NotTaken;
        }
    }

    private bool TryRead(OutboxMessage message, [NotNullWhen(true)] out Type? type, [NotNullWhen(true)] out object? body)
    {
        body = null;
        if (!ContractTypes.TryGetValue(message.MessageType, out type))
        {
            LogUnreadable(message.Id, message.MessageType, "unknown type");
            return false;
        }

        try
        {
            body = JsonSerializer.Deserialize(message.Payload, type, Extensions.JsonOptions);
        }
        catch (JsonException ex)
        {
            LogUnreadable(message.Id, message.MessageType, ex.Message);
        }

        return body is not null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay could not publish ({Reason}); retrying in {BackoffMs} ms")]
    private partial void LogRelayFailed(string reason, double backoffMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {Id} of type {Type} cannot be read ({Reason}); it is retried, then parked")]
    private partial void LogUnreadable(long id, string type, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox message {Id} of type {Type} was parked after {Attempts} attempts: it stays in outbox_messages with parked_at set and is no longer relayed")]
    private partial void LogParked(long id, string type, int attempts);
}

public static class OutboxExtensions
{
    /// <summary>The outbox relay for <typeparamref name="TContext"/>; call after AddServiceDatabase and AddMessaging.</summary>
    public static IServiceCollection AddOutboxRelay<TContext>(this IServiceCollection services, UnroutableEvents unroutable)
        where TContext : DbContext
    {
        services.AddSingleton<OutboxSignal>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService(provider => ActivatorUtilities.CreateInstance<OutboxRelay<TContext>>(provider, unroutable));
        return services;
    }
}
