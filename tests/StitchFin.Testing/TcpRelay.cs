using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace StitchFin.Testing;

/// <summary>
/// A TCP relay between a service and a server (its database), which a test cuts as a crash would: open connections
/// are reset and new ones refused until it is restored on the same port.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private TcpListener? _listener;
    private CancellationTokenSource _accepting = new();

    private TcpRelay(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
    }

    public int Port { get; private set; }

    public static TcpRelay Start(string targetHost, int targetPort)
    {
        var relay = new TcpRelay(targetHost, targetPort);
        relay.Listen(0);
        return relay;
    }

    /// <summary>Resets every open connection and refuses new ones.</summary>
    public void Cut()
    {
        _accepting.Cancel();
        _listener?.Stop();
        _listener = null;
        foreach (var socket in _open.Keys)
        {
            Reset(socket);
        }
    }

    /// <summary>Accepts connections again, on the same port.</summary>
    public void Restore()
    {
        _accepting = new CancellationTokenSource();
        Listen(Port);
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }

    private void Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync(listener, _accepting.Token);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _open[client] = 0;
        _open[server] = 0;
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort);
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Reset(client);
            Reset(server);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private void Reset(Socket socket)
    {
        if (_open.TryRemove(socket, out _))
        {
            try
            {
                // Linger 0: close with a reset, as the peer of a killed process sees it.
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
