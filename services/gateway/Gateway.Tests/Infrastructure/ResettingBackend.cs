using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StitchFin.Gateway.Tests.Infrastructure;

/// <summary>
/// A service stand-in that reads each request whole and then resets the connection without answering, the way a
/// process that dies while handling a request does: the request reached it, its answer never left.
/// </summary>
public sealed class ResettingBackend : IDisposable
{
    private static readonly byte[] HeadersEnd = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private int _received;

    public string Address => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    /// <summary>How many requests it read whole before resetting their connections.</summary>
    public int Received => Volatile.Read(ref _received);

    public static ResettingBackend Start()
    {
        var backend = new ResettingBackend();
        backend._listener.Start();
        _ = backend.AcceptAsync();
        return backend;
    }

    public void Dispose() => _listener.Stop();

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                _ = ResetAfterRequestAsync(await _listener.AcceptSocketAsync());
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task ResetAfterRequestAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                if (await ReadRequestAsync(socket))
                {
                    Interlocked.Increment(ref _received);
                }
            }
            catch (SocketException)
            {
                // The edge gave up first.
            }

            // Closing with a zero linger sends a reset instead of an orderly close.
            socket.LingerState = new LingerOption(true, 0);
        }
    }

    /// <summary>Reads one request's headers and its body (by Content-Length, or chunked to the last chunk).</summary>
    private static async Task<bool> ReadRequestAsync(Socket socket)
    {
        var received = new List<byte>();
        var buffer = new byte[16 * 1024];
        int headersEnd;
        while ((headersEnd = IndexOf(received, HeadersEnd, 0)) < 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (read == 0)
            {
                return false;
            }

            received.AddRange(buffer.AsSpan(0, read));
        }

        var headers = Encoding.ASCII.GetString(received.GetRange(0, headersEnd).ToArray()).Split("\r\n");
        var bodyStart = headersEnd + HeadersEnd.Length;
        var length = headers.Select(h => h.Split(':', 2)).Where(h => h.Length == 2 && h[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(h => (long?)long.Parse(h[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var chunked = headers.Any(h => h.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && h.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        while (length is { } bodyLength ? received.Count - bodyStart < bodyLength : chunked && IndexOf(received, "0\r\n\r\n"u8.ToArray(), bodyStart) < 0)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (read == 0)
            {
                return false;
            }

            received.AddRange(buffer.AsSpan(0, read));
        }

        return true;
    }

    private static int IndexOf(List<byte> bytes, byte[] pattern, int from)
    {
        for (var i = from; i <= bytes.Count - pattern.Length; i++)
        {
            var match = true;
            for (var j = 0; j < pattern.Length && match; j++)
            {
                match = bytes[i + j] == pattern[j];
            }

            if (match)
            {
                return i;
            }
        }

        return -1;
    }
}
