using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace StitchFin.ServiceDefaults.Data;

/// <summary>
/// Applies pending migrations when the service starts. Hosted services start before Kestrel listens, so no
/// request sees an old schema. The database may still be starting, so this waits for it for a while.
/// Then it opens the pool's minimum of connections, so the first burst of requests does not pay for opening them all
/// at once (see <see cref="DatabaseExtensions.WithPoolDefaults"/>).
/// </summary>
public sealed partial class MigrationService<TContext>(IServiceProvider services, ILogger<MigrationService<TContext>> logger) : IHostedService
    where TContext : DbContext
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan MigrationCommandTimeout = TimeSpan.FromMinutes(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var database = scope.ServiceProvider.GetRequiredService<TContext>().Database;
                // A migration may rewrite a large table; requests' 10 s statement limit is not meant for it.
                database.SetCommandTimeout(MigrationCommandTimeout);
                await database.MigrateAsync(cancellationToken);
                LogMigrated(typeof(TContext).Name);
                await WarmPoolAsync(new NpgsqlConnectionStringBuilder(database.GetConnectionString()).MinPoolSize, cancellationToken);
                return;
            }
            catch (Exception ex) when (DateTime.UtcNow < deadline && ex is not OperationCanceledException)
            {
                LogWaiting(typeof(TContext).Name, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Holds that many connections open at once, then gives them all back to the pool as idle ones.</summary>
    private async Task WarmPoolAsync(int connections, CancellationToken cancellationToken)
    {
        var scopes = Enumerable.Range(0, connections).Select(_ => services.CreateAsyncScope()).ToArray();
        try
        {
            await Task.WhenAll(scopes.Select(scope =>
                scope.ServiceProvider.GetRequiredService<TContext>().Database.OpenConnectionAsync(cancellationToken)));
        }
        finally
        {
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database for {Context} is migrated")]
    private partial void LogMigrated(string context);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting to migrate {Context}: {Reason}")]
    private partial void LogWaiting(string context, string reason);
}
