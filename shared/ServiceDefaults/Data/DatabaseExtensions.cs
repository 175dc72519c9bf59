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

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(WithPoolDefaults(connectionString), npgsql => npgsql.EnableRetryOnFailure(5, TimeSpan.FromSeconds(2), null))
            .UseSnakeCaseNamingConvention();

    /// <summary>
    /// EF Core opens and closes the pooled connection around every statement outside a transaction: by default
    /// Npgsql then has PostgreSQL reset the session (one more parsed and executed statement per open), and every
    /// EF statement is parsed and planned anew. No service keeps session state, so the reset is skipped, and
    /// statements used twice on a physical connection are prepared there.
    /// </summary>
    public static string WithPoolDefaults(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true, MaxAutoPrepare = 64 }.ConnectionString;
}
