using System.Net;
using System.Net.Sockets;

namespace StitchFin.LoadBench.Load;

/// <summary>What one request came to: the operation it belongs to, and why it failed if it did.</summary>
public readonly record struct Outcome(string Operation, string? Error)
{
    public bool Succeeded => Error is null;

    public static Outcome Success(string operation) => new(operation, null);

    public static Outcome Failure(string operation, string error) => new(operation, error);

    public static Outcome FromStatus(string operation, HttpResponseMessage response, HttpStatusCode expected) =>
        response.StatusCode == expected ? Success(operation) : Failure(operation, $"HTTP {(int)response.StatusCode}");

    /// <summary>Failures that are the system's answer (refused, reset, timed out) rather than bugs in the bench.</summary>
    public static bool TryDescribe(Exception exception, CancellationToken runCancellation, out string error)
    {
        error = exception switch
        {
            TaskCanceledException when !runCancellation.IsCancellationRequested => "timeout",
            HttpRequestException { InnerException: SocketException socket } => $"socket {socket.SocketErrorCode}",
            HttpRequestException http => http.HttpRequestError.ToString(),
            IOException => "connection reset",
            _ => "",
        };
        return error.Length > 0;
    }
}

/// <summary>Sends a request and turns the answer, or the transport failure, into an <see cref="Outcome"/>.</summary>
public static class Requests
{
    public static async Task<Outcome> SendAsync(
        string operation, HttpClient client, HttpRequestMessage request, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            return Outcome.FromStatus(operation, response, expected);
        }
        catch (Exception ex) when (Outcome.TryDescribe(ex, cancellationToken, out var error))
        {
            return Outcome.Failure(operation, error);
        }
    }
}
