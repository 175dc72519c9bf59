using System.Globalization;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using StitchFin.Gateway.Http;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Gateway.Proxy;

/// <summary>
/// YARP answers a failed forward with a bare status code (a 502 for most failures); this turns it into a problem of
/// the edge's own type that names the service and says whether the request can have been carried out, never the
/// 502 that a service answers when both providers failed:
/// <list type="bullet">
/// <item>the service could not be reached (no healthy destination, the connection refused or not established in
/// time): <c>503</c> <see cref="ServiceUnreachable"/> with <c>Retry-After</c>; the request was not sent, so nothing
/// was done or charged;</item>
/// <item>the connection failed after the request (or part of it) was sent, or the answer could not be relayed:
/// <c>504</c> <see cref="ServiceConnectionLost"/> with <c>Retry-After</c>; the service may have carried it out, and a
/// retry with the same <c>Idempotency-Key</c> finds out (a completed exchange is replayed, not repeated);</item>
/// <item>the service did not send its response headers within its route's bound (<see cref="ResponseHeadersTimeouts"/>)
/// or its cluster's <c>HttpRequest:ActivityTimeout</c>: <c>504</c> <see cref="GatewayTimeout"/> with
/// <c>Retry-After</c>; the outcome is unknown in the same way.</item>
/// </list>
/// It runs outside the request timeout, so the problem is written under the client's own cancellation token, not
/// the one the timeout cancelled.
/// </summary>
public static class ProxyErrorProblems
{
    public const string ServiceUnreachable = ProblemTypes.Prefix + "service-unreachable";
    public const string ServiceConnectionLost = ProblemTypes.Prefix + "service-connection-lost";
    public const string GatewayTimeout = ProblemTypes.Prefix + "gateway-timeout";

    public static IApplicationBuilder UseProxyErrorProblems(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        await next(context);
        if (context.Features.Get<IForwarderErrorFeature>() is not { } error || context.Response.HasStarted)
        {
            return;
        }

        var timedOut = ResponseHeadersTimeouts.TimedOut(context);
        if (!timedOut && (context.RequestAborted.IsCancellationRequested
            || error.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyClient))
        {
            // The client has gone: there is no one to answer.
            return;
        }

        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config;
        var service = route?.ClusterId ?? "upstream";
        var (status, type, title, detail) = error switch
        {
            _ when timedOut && route?.Timeout is { } bound =>
                (StatusCodes.Status504GatewayTimeout, GatewayTimeout, "Gateway timeout",
                    string.Create(CultureInfo.InvariantCulture, $"The {service} service did not answer within {bound.TotalSeconds:0.###} s.")),
            _ when timedOut =>
                (StatusCodes.Status504GatewayTimeout, GatewayTimeout, "Gateway timeout", $"The {service} service did not answer in time."),
            { Exception: var ex } when IsBodyTooLarge(ex) =>
                (StatusCodes.Status413PayloadTooLarge, null, "Request body too large", "The request body is larger than this route accepts."),
            { Error: ForwarderError.RequestBodyClient } =>
                (StatusCodes.Status400BadRequest, null, "Bad request", "The request body could not be read."),
            _ when NeverSent(error) =>
                (StatusCodes.Status503ServiceUnavailable, ServiceUnreachable, "Service unreachable",
                    $"The {service} service cannot be reached right now. The request was not sent to it: nothing was done and nothing was charged."),
            { Error: ForwarderError.RequestCreation } =>
                (StatusCodes.Status500InternalServerError, null, "Internal error",
                    $"The edge could not prepare the request for the {service} service; it was not sent."),
            { Error: ForwarderError.RequestTimedOut } =>
                (StatusCodes.Status504GatewayTimeout, GatewayTimeout, "Gateway timeout", $"The {service} service did not answer in time."),
            _ =>
                (StatusCodes.Status504GatewayTimeout, ServiceConnectionLost, "Service connection lost",
                    $"The connection to the {service} service failed after the request was sent, so it may have been carried out (and charged). " +
                    "Retry with the same Idempotency-Key to find out: a completed exchange is replayed, not repeated."),
        };
        if (status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout)
        {
            // A service that is down or stalled is worth asking again; the route's bound limits each wait.
            context.Response.Headers.RetryAfter = status == StatusCodes.Status503ServiceUnavailable ? "5" : "2";
        }

        await EdgeProblems.WriteAsync(context, status, title, detail, type);
    });

    /// <summary>
    /// True when the request certainly did not reach the service: no destination was available, or the connection to
    /// it could not be established (refused, unresolvable, or not within the connect timeout). A failure on a
    /// connection that was open (reset, closed before the response) may come after the service read the request.
    /// </summary>
    private static bool NeverSent(IForwarderErrorFeature error) => error.Error switch
    {
        ForwarderError.NoAvailableDestinations => true,
        ForwarderError.Request => error.Exception is HttpRequestException
        {
            HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError,
        },
        // SocketsHttpHandler's ConnectTimeout: a cancellation whose inner exception is a TimeoutException.
        ForwarderError.RequestTimedOut => error.Exception is OperationCanceledException { InnerException: TimeoutException },
        _ => false,
    };

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }
}
