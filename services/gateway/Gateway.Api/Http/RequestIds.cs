using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Gateway.Http;

/// <summary>
/// Every request gets an id: the client's <c>X-Request-Id</c> when it is safe to sign, else a new one. The id is
/// forwarded, signed into the identity, and returned on the response, whoever writes it.
/// </summary>
public static class RequestIds
{
    public const string HeaderName = "X-Request-Id";
    private static readonly object ItemKey = new();

    public static string Get(HttpContext context) =>
        context.Items.TryGetValue(ItemKey, out var id) && id is string requestId ? requestId : context.TraceIdentifier;

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var requestId = InternalIdentitySigner.SafeRequestId(context.Request.Headers[HeaderName].ToString());
        context.Items[ItemKey] = requestId;
        context.TraceIdentifier = requestId;
        context.Response.OnStarting(static state =>
        {
            var (response, id) = ((HttpResponse, string))state;
            response.Headers[HeaderName] = id;
            return Task.CompletedTask;
        }, (context.Response, requestId));
        return next(context);
    });
}
