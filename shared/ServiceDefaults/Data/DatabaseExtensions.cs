using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace StitchFin.ServiceDefaults.Data;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Database";

    /// <summary>
    /// A pooled Npgsql DbContext with retry on transient failures, snake_case names, a readiness check, and
    /// committed EF migrations applied by a start step before the service takes requests.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase<TContext>(this IHostApplicationBuilder builder)
        where TContext : DbContext
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} is not configured.");

        builder.Services.AddDbContextPool<TContext>(options => Configure(options, connectionString));
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>("database", tags: [Extensions.ReadyTag]);
        builder.Services.AddHostedService<MigrationService<TContext>>();
        return builder;
    }

    /// <summary>
    /// Transient failures are retried twice, at most a second apart, so a blip is absorbed but an outage is answered
    /// (<c>503</c>, see <see cref="DatabaseUnavailableExceptionHandler"/>) within seconds instead of holding requests.
    /// </summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(WithPoolDefaults(connectionString), npgsql => npgsql.EnableRetryOnFailure(2, TimeSpan.FromSeconds(1), null))
            .UseSnakeCaseNamingConvention();

    /// <summary>
    /// EF Core opens and closes the pooled connection around every statement outside a transaction: by default
    /// Npgsql then has PostgreSQL reset the session (one more parsed and executed statement per open), and every
    /// EF statement is parsed and planned anew. No service keeps session state, so the reset is skipped, and
    /// statements used twice on a physical connection are prepared there.
    /// A statement gives up after 10 s (unless the connection string says otherwise), so a database that stopped
    /// answering cannot hold a request for the default 30 s. The wait for a connection keeps Npgsql's 15 s: it is also
    /// the wait for a free pooled connection in a burst, and a database that is down refuses at once anyway.
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        // Only the keys the connection string names (Npgsql's own builder answers true for every keyword it knows).
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true, MaxAutoPrepare = 64 };
        if (!named.ContainsKey("Command Timeout") && !named.ContainsKey("CommandTimeout"))
        {
            builder.CommandTimeout = 10;
        }

        return builder.ConnectionString;
    }
}
