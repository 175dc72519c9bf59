using System.Net;
using System.Net.Sockets;

namespace StitchFin.Gateway.Tests.Infrastructure;

/// <summary>
/// A TCP relay to a real server that a test can pause: bytes stop flowing both ways while every connection stays
/// open, the way a link fails silently (the client library still believes it is connected).
/// </summary>
public sealed class PausableTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private volatile TaskCompletionSource _flowing = Flowing();

    private PausableTcpProxy(string host, int port)
    {
        _host = host;
        _port = port;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static PausableTcpProxy Start(string host, int port)
    {
        var proxy = new PausableTcpProxy(host, port);
        proxy._listener.Start();
        _ = proxy.AcceptAsync();
        return proxy;
    }

    public void Pause() => _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Resume() => _flowing.TrySetResult();

    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                _ = RelayAsync(await _listener.AcceptTcpClientAsync(_stop.Token));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed.
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(_host, _port, _stop.Token);
                // Either side closing ends the relay; disposing both sockets then ends the other direction.
                await Task.WhenAny(PumpAsync(client.GetStream(), upstream.GetStream()), PumpAsync(upstream.GetStream(), client.GetStream()));
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Disposed, or the server went away.
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                await _flowing.Task.WaitAsync(_stop.Token);
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Disposed, or the other side closed.
        }
    }
}
