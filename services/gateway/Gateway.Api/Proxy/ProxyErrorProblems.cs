using System.Globalization;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using StitchFin.Gateway.Http;

namespace StitchFin.Gateway.Proxy;

/// <summary>
/// YARP answers a failed forward with a bare status code; this turns it into a problem that names the service,
/// so a backend that is down is a prompt 502/503 problem for the client, and one that does not send its response
/// headers within its route's bound (<see cref="ResponseHeadersTimeouts"/>) or its cluster's
/// <c>HttpRequest:ActivityTimeout</c> is a 504 with <c>Retry-After</c>. It runs outside the request timeout, so the
/// problem is written under the client's own cancellation token, not the one the timeout cancelled.
/// </summary>
public static class ProxyErrorProblems
{
    public static IApplicationBuilder UseProxyErrorProblems(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        await next(context);
        if (context.Features.Get<IForwarderErrorFeature>() is not { } error || context.Response.HasStarted)
        {
            return;
        }

        var timedOut = ResponseHeadersTimeouts.TimedOut(context);
        if (!timedOut && error.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
        {
            return;
        }

        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config;
        var service = route?.ClusterId ?? "upstream";
        var (status, title, detail) = error switch
        {
            _ when timedOut && route?.Timeout is { } bound =>
                (StatusCodes.Status504GatewayTimeout, "Gateway timeout",
                    string.Create(CultureInfo.InvariantCulture, $"The {service} service did not answer within {bound.TotalSeconds:0.###} s.")),
            _ when timedOut =>
                (StatusCodes.Status504GatewayTimeout, "Gateway timeout", $"The {service} service did not answer in time."),
            { Exception: var ex } when IsBodyTooLarge(ex) =>
                (StatusCodes.Status413PayloadTooLarge, "Request body too large", "The request body is larger than this route accepts."),
            { Error: ForwarderError.NoAvailableDestinations } =>
                (StatusCodes.Status503ServiceUnavailable, "Service unavailable", $"The {service} service is not available right now."),
            { Error: ForwarderError.RequestTimedOut } =>
                (StatusCodes.Status504GatewayTimeout, "Gateway timeout", $"The {service} service did not answer in time."),
            { Error: ForwarderError.RequestBodyClient } =>
                (StatusCodes.Status400BadRequest, "Bad request", "The request body could not be read."),
            _ => (StatusCodes.Status502BadGateway, "Bad gateway", $"The {service} service could not be reached."),
        };
        if (status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout)
        {
            // A service that is down or stalled is worth asking again; the route's bound limits each wait.
            context.Response.Headers.RetryAfter = status == StatusCodes.Status503ServiceUnavailable ? "5" : "2";
        }

        await EdgeProblems.WriteAsync(context, status, title, detail);
    });

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
