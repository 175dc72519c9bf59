using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Npgsql;
using StitchFin.ServiceDefaults.Data;
using StitchFin.Testing;

namespace StitchFin.ServiceDefaults.Tests;

/// <summary>The pool a service's database gets: a bound, and a warm minimum that idle pruning never empties.</summary>
public sealed class DatabasePoolTests
{
    [Fact]
    public void The_pool_keeps_a_minimum_and_a_bound_of_connections_unless_the_connection_string_names_them()
    {
        Assert.Equal(DatabaseExtensions.MaxConnections, MaxPoolSizeOf("Host=db;Database=d"));
        Assert.Equal(60, MaxPoolSizeOf("Host=db;Database=d;Maximum Pool Size=60"));
        Assert.Equal(7, MaxPoolSizeOf("Host=db;Database=d;MaxPoolSize=7"));
        Assert.Equal(DatabaseExtensions.WarmConnections, MinPoolSizeOf("Host=db;Database=d"));
        Assert.Equal(0, MinPoolSizeOf("Host=db;Database=d;Minimum Pool Size=0"));
        Assert.Equal(3, MinPoolSizeOf("Host=db;Database=d;MinPoolSize=3"));
        Assert.Equal(4, MinPoolSizeOf("Host=db;Database=d;Maximum Pool Size=4"));
    }

    [Fact]
    public async Task A_started_service_holds_its_warm_connections_open_before_it_takes_requests()
    {
        await using var infrastructure = await TestInfrastructure.StartAsync(nameof(DatabasePoolTests));
        var connectionString = new NpgsqlConnectionStringBuilder(infrastructure.PostgresConnectionString);
        connectionString.Remove("Minimum Pool Size");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:Database"] = connectionString.ConnectionString;
        builder.AddServiceDatabase<EmptyContext>();

        using var host = builder.Build();
        await host.StartAsync();
        Assert.Equal(DatabaseExtensions.WarmConnections, await ConnectionsToAsync(infrastructure, connectionString.Database!));
        await host.StopAsync();
    }

    private static int MaxPoolSizeOf(string connectionString) =>
        new NpgsqlConnectionStringBuilder(DatabaseExtensions.WithPoolDefaults(connectionString)).MaxPoolSize;

    private static int MinPoolSizeOf(string connectionString) =>
        new NpgsqlConnectionStringBuilder(DatabaseExtensions.WithPoolDefaults(connectionString)).MinPoolSize;

    private static async Task<long> ConnectionsToAsync(TestInfrastructure infrastructure, string database)
    {
        var admin = new NpgsqlConnectionStringBuilder(infrastructure.PostgresConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = @database", connection);
        count.Parameters.AddWithValue("database", database);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private sealed class EmptyContext(DbContextOptions<EmptyContext> options) : DbContext(options);
}
