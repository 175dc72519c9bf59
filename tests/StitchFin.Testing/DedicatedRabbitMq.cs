using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StitchFin.Testing;

/// <summary>
/// A RabbitMQ node of a test's own, which the test may stop and start again (broker outages) without
/// disturbing other test projects. Locally it is a private node run by <c>scripts/infra.sh rabbitmq</c>.
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

    public static async Task<DedicatedRabbitMq> StartAsync(string name)
    {
        var broker = new DedicatedRabbitMq(name, FreePortBlock());
        await broker.StartAsync();
        return broker;
    }

    public Task StartAsync() => Script("start");

    public Task StopAsync() => Script("stop");

    /// <summary>Deletes a queue with its messages and bindings, as an operator's mistake or a cleanup script would.</summary>
    public Task DeleteQueueAsync(string virtualHost, string queue) => LocalInfrastructure.FromEnvironment().DeleteQueueAsync(virtualHost, queue, Port);

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task Script(string verb)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "infra.sh"), "rabbitmq", verb, _name, Port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"infra.sh rabbitmq {verb} {_name} failed: {await stderr}");
        }
    }

    /// <summary>The node uses four consecutive ports (AMQP, management, distribution, epmd).</summary>
    private static int FreePortBlock()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(20000, 30000);
            if (Enumerable.Range(port, 4).All(IsFree))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No free block of four ports for a dedicated RabbitMQ node.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
