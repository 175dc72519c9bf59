using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace StitchFin.ServiceDefaults.Data;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Database";

    /// <summary>The pool's default minimum, opened at start (see <see cref="MigrationService{TContext}"/>).</summary>
    public const int WarmConnections = 10;

    /// <summary>The pool's default bound, per service instance.</summary>
    public const int MaxConnections = 20;

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
    /// The pool holds at most <see cref="MaxConnections"/> and keeps at least <see cref="WarmConnections"/> (unless the
    /// connection string names its own bounds). Opening a connection costs about 30 ms of CPU on a small machine (a
    /// PostgreSQL backend to start, SCRAM on both sides): with Npgsql's 100, a start-up burst grew the pool to its
    /// bound, idle pruning later closed most of it while the load ran, and the load reopened dozens at once, stalling
    /// every request for seconds (docs/PERFORMANCE.md, the soak at half capacity). More connections than that do not
    /// make a database on a few cores answer sooner; a request waits for a free one instead.
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        // Only the keys the connection string names (Npgsql's own builder answers true for every keyword it knows).
        var named = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true, MaxAutoPrepare = 64 };
        bool Named(params string[] keywords) => keywords.Any(named.ContainsKey);
        if (!Named("Command Timeout", "CommandTimeout"))
        {
            builder.CommandTimeout = 10;
        }

        if (!Named("Maximum Pool Size", "MaxPoolSize", "Max Pool Size"))
        {
            builder.MaxPoolSize = MaxConnections;
        }

        if (!Named("Minimum Pool Size", "MinPoolSize", "Min Pool Size"))
        {
            builder.MinPoolSize = Math.Min(WarmConnections, builder.MaxPoolSize);
        }

        return builder.ConnectionString;
    }
}
