using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace StitchFin.Testing;

/// <summary><c>scripts/infra.sh</c>, which runs the dedicated servers of <see cref="DedicatedRabbitMq"/> and <see cref="DedicatedPostgres"/>.</summary>
internal static class InfraScript
{
    /// <summary><c>scripts/infra.sh KIND VERB NAME PORT</c>; throws with the script's errors when it fails.</summary>
    public static async Task RunAsync(string kind, string verb, string name, int port)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot.Path, "scripts", "infra.sh"), kind, verb, name, port.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"infra.sh {kind} {verb} {name} failed: {await stderr}");
        }
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive free ports, below the ephemeral range so that no outgoing
    /// connection takes one of them while the server is down.
    /// </summary>
    public static int FreePortBlock(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(20000, 30000);
            if (Enumerable.Range(port, count).All(IsFree))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free block of {count} ports for a dedicated server.");
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
