using System.Net.Http.Headers;
using System.Text;
using DotNet.Testcontainers.Configurations;
using Npgsql;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace StitchFin.Testing;

/// <summary>Where a test's broker is and which virtual host it owns.</summary>
public sealed record RabbitMqEndpoint(string Host, int Port, string Username, string Password, string VirtualHost);

/// <summary>
/// Real PostgreSQL and RabbitMQ for one test fixture: a fresh database and a fresh RabbitMQ virtual host, so
/// test projects run in parallel without seeing each other's rows or messages. With a Docker endpoint the
/// servers come from Testcontainers; without one, from the local instances that <c>scripts/infra.sh</c> starts.
/// </summary>
public sealed class TestInfrastructure : IAsyncDisposable
{
    public const string SigningKey = "test-identity-signing-key-0123456789abcdef";
    public const string TestPepper = "test-api-key-pepper-0123456789abcdef";

    private readonly Func<ValueTask> _cleanup;

    private TestInfrastructure(string connectionString, RabbitMqEndpoint rabbitMq, Func<ValueTask> cleanup)
    {
        PostgresConnectionString = connectionString;
        RabbitMq = rabbitMq;
        _cleanup = cleanup;
    }

    public string PostgresConnectionString { get; }

    public RabbitMqEndpoint RabbitMq { get; }

    public static bool DockerAvailable => TestcontainersSettings.OS.DockerEndpointAuthConfig is not null;

    /// <summary>The configuration a service under test needs: database, broker and identity key.</summary>
    public IDictionary<string, string?> Configuration => new Dictionary<string, string?>
    {
        ["ConnectionStrings:Database"] = PostgresConnectionString,
        ["RabbitMq:Host"] = RabbitMq.Host,
        ["RabbitMq:Port"] = RabbitMq.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq:Username"] = RabbitMq.Username,
        ["RabbitMq:Password"] = RabbitMq.Password,
        ["RabbitMq:VirtualHost"] = RabbitMq.VirtualHost,
        ["Identity:SigningKey"] = SigningKey,
        ["ApiKeys:Pepper"] = TestPepper,
    };

    public static async Task<TestInfrastructure> StartAsync(string name)
    {
        var suffix = $"{Sanitize(name)}_{Guid.NewGuid().ToString("N")[..10]}";
        return DockerAvailable ? await StartContainersAsync(suffix) : await StartLocalAsync(suffix);
    }

    public ValueTask DisposeAsync() => _cleanup();

    private static async Task<TestInfrastructure> StartLocalAsync(string suffix)
    {
        var local = LocalInfrastructure.FromEnvironment();
        var database = $"test_{suffix}";
        var vhost = $"test-{suffix}";
        await local.CreateVirtualHostAsync(vhost);
        var connectionString = local.ConnectionString(database);
        return new TestInfrastructure(
            connectionString,
            new RabbitMqEndpoint(local.Host, local.RabbitMqPort, local.RabbitMqUser, local.RabbitMqPassword, vhost),
            async () =>
            {
                await local.DropDatabaseAsync(database);
                await local.DeleteVirtualHostAsync(vhost);
            });
    }

    private static async Task<TestInfrastructure> StartContainersAsync(string suffix)
    {
        var postgres = new PostgreSqlBuilder("postgres:15-alpine").Build();
        var rabbit = new RabbitMqBuilder("rabbitmq:3.10-management-alpine").Build();
        await Task.WhenAll(postgres.StartAsync(), rabbit.StartAsync());
        var rabbitUri = new Uri(rabbit.GetConnectionString());
        var userInfo = Uri.UnescapeDataString(rabbitUri.UserInfo).Split(':', 2);
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.GetConnectionString()) { Database = $"test_{suffix}", MinPoolSize = 0 }.ConnectionString;
        return new TestInfrastructure(
            connectionString,
            new RabbitMqEndpoint(rabbitUri.Host, rabbitUri.Port, userInfo[0], userInfo[1], "/"),
            async () =>
            {
                await postgres.DisposeAsync();
                await rabbit.DisposeAsync();
            });
    }

    private static string Sanitize(string name) =>
        new(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').Take(30).ToArray());
}

/// <summary>The instances <c>scripts/infra.sh</c> runs; names and defaults match <c>scripts/config.sh</c>.</summary>
public sealed class LocalInfrastructure
{
    public required string Host { get; init; }
    public required int PostgresPort { get; init; }
    public required string PostgresUser { get; init; }
    public required string PostgresPassword { get; init; }
    public required int RabbitMqPort { get; init; }
    public required string RabbitMqUser { get; init; }
    public required string RabbitMqPassword { get; init; }

    public static LocalInfrastructure FromEnvironment() => new()
    {
        Host = Env("STITCHFIN_PG_HOST", "127.0.0.1"),
        PostgresPort = int.Parse(Env("STITCHFIN_PG_PORT", "55432"), System.Globalization.CultureInfo.InvariantCulture),
        PostgresUser = Env("STITCHFIN_PG_USER", "stitchfin"),
        PostgresPassword = Env("STITCHFIN_PG_PASSWORD", "stitchfin-dev"),
        RabbitMqPort = int.Parse(Env("STITCHFIN_RABBITMQ_PORT", "55672"), System.Globalization.CultureInfo.InvariantCulture),
        RabbitMqUser = Env("STITCHFIN_RABBITMQ_USER", "stitchfin"),
        RabbitMqPassword = Env("STITCHFIN_RABBITMQ_PASSWORD", "stitchfin-dev"),
    };

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = PostgresPort,
        Username = PostgresUser,
        Password = PostgresPassword,
        Database = database,
        MaxPoolSize = 50,
        // Many test hosts share one PostgreSQL: none keeps idle connections it does not use.
        MinPoolSize = 0,
    }.ConnectionString;

    public async Task DropDatabaseAsync(string database)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task CreateVirtualHostAsync(string vhost, int? port = null)
    {
        using var http = Management(port);
        (await http.PutAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}", null)).EnsureSuccessStatusCode();
        var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(RabbitMqUser)}", permissions)).EnsureSuccessStatusCode();
    }

    public async Task DeleteVirtualHostAsync(string vhost, int? port = null)
    {
        using var http = Management(port);
        await http.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}");
    }

    public async Task DeleteQueueAsync(string vhost, string queue, int? port = null)
    {
        using var http = Management(port);
        (await http.DeleteAsync($"api/queues/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(queue)}")).EnsureSuccessStatusCode();
    }

    private HttpClient Management(int? amqpPort)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{Host}:{(amqpPort ?? RabbitMqPort) + 1}/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RabbitMqUser}:{RabbitMqPassword}")));
        return http;
    }

    private static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
