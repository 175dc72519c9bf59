namespace StitchFin.Testing;

/// <summary>
/// A RabbitMQ node of a test's own, which the test may stop, kill and start again (broker outages and crashes)
/// without disturbing other test projects. Locally it is a private node run by <c>scripts/infra.sh rabbitmq</c>.
/// </summary>
public sealed class DedicatedRabbitMq : IAsyncDisposable
{
    private readonly string _name;

    private DedicatedRabbitMq(string name, int port)
    {
        _name = name;
        Port = port;
        var local = LocalInfrastructure.FromEnvironment();
        Endpoint = new RabbitMqEndpoint(local.Host, port, local.RabbitMqUser, local.RabbitMqPassword, "/");
    }

    public int Port { get; }

    public RabbitMqEndpoint Endpoint { get; }

    /// <summary>The node uses four consecutive ports (AMQP, management, distribution, epmd).</summary>
    public static async Task<DedicatedRabbitMq> StartAsync(string name)
    {
        var broker = new DedicatedRabbitMq(name, InfraScript.FreePortBlock(4));
        await broker.StartAsync();
        return broker;
    }

    public Task StartAsync() => Script("start");

    public Task StopAsync() => Script("stop");

    /// <summary>SIGKILL of the node's Erlang VM, as a crash; <see cref="StartAsync()"/> brings it back with what it had on disk.</summary>
    public Task KillAsync() => Script("kill");

    /// <summary>Deletes a queue with its messages and bindings, as an operator's mistake or a cleanup script would.</summary>
    public Task DeleteQueueAsync(string virtualHost, string queue) => LocalInfrastructure.FromEnvironment().DeleteQueueAsync(virtualHost, queue, Port);

    public async ValueTask DisposeAsync() => await StopAsync();

    private Task Script(string verb) => InfraScript.RunAsync("rabbitmq", verb, _name, Port);
}
