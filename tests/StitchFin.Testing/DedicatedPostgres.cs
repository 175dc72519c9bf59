namespace StitchFin.Testing;

/// <summary>
/// A PostgreSQL server of a test's own, which the test may stop, kill and start again (database outages and
/// crashes) without disturbing other test projects: <c>scripts/infra.sh postgres</c> runs it with its own data
/// directory and the local instance's user and password. Disposing it deletes its data.
/// </summary>
public sealed class DedicatedPostgres : IAsyncDisposable
{
    private readonly string _name;
    private readonly LocalInfrastructure _server;

    private DedicatedPostgres(string name, int port)
    {
        _name = name;
        Port = port;
        var local = LocalInfrastructure.FromEnvironment();
        _server = new LocalInfrastructure
        {
            Host = local.Host,
            PostgresPort = port,
            PostgresUser = local.PostgresUser,
            PostgresPassword = local.PostgresPassword,
            RabbitMqPort = local.RabbitMqPort,
            RabbitMqUser = local.RabbitMqUser,
            RabbitMqPassword = local.RabbitMqPassword,
        };
    }

    public int Port { get; }

    public static async Task<DedicatedPostgres> StartAsync(string name)
    {
        var postgres = new DedicatedPostgres(name, InfraScript.FreePortBlock(1));
        await postgres.StartAsync();
        return postgres;
    }

    /// <summary>Starts the server; after <see cref="KillAsync"/> it first recovers from its write-ahead log.</summary>
    public Task StartAsync() => Script("start");

    public Task StopAsync() => Script("stop");

    /// <summary>SIGKILL of the postmaster and every server process at once, as a crash.</summary>
    public Task KillAsync() => Script("kill");

    public string ConnectionString(string database) => _server.ConnectionString(database);

    public async ValueTask DisposeAsync() => await Script("purge");

    private Task Script(string verb) => InfraScript.RunAsync("postgres", verb, _name, Port);
}
