using Yarp.ReverseProxy.Model;
using StitchFin.Gateway.Http;

namespace StitchFin.Gateway.Proxy;

/// <summary>
/// Refuses a body its route does not accept (the route's <c>MaxRequestBodySize</c>) before anything is read or
/// forwarded when <c>Content-Length</c> already says so; a chunked body is cut off by the same limit, which YARP
/// sets on the request, and <see cref="ProxyErrorProblems"/> reports it.
/// </summary>
public static class RequestBodyLimits
{
    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.MaxRequestBodySize;
        if (limit is > 0 && context.Request.ContentLength is { } length && length > limit)
        {
            return EdgeProblems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large",
                $"The request body is {length} bytes; {context.Request.Path} accepts at most {limit} bytes.");
        }

        return next(context);
    });
}
