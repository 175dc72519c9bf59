using StitchFin.Gateway.Authentication;
using StitchFin.Gateway.Http;
using StitchFin.ServiceDefaults.Identity;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace StitchFin.Gateway.Proxy;

/// <summary>
/// What reaches an internal service: never a credential or an identity the client wrote, always the identity the
/// edge verified (signed) and the request id. <c>traceparent</c> is set by YARP's propagator from the edge's
/// own activity, so the trace continues across the hop.
/// </summary>
public static class ForwardingTransforms
{
    private static readonly HashSet<string> RemovedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        ApiKeyAuthenticationHandler.ApiKeyHeader,
        AdminKeyAuthenticationHandler.AdminKeyHeader,
        "Authorization",
        "Proxy-Authorization",
        "X-Tenant-Id",
        "X-Tenant",
        "X-Key-Id",
        "X-User-Id",
        "X-Forwarded-User",
        "X-Forwarded-Email",
        "X-Remote-User",
        "Remote-User",
        RequestIds.HeaderName,
    };

    private static readonly string[] RemovedPrefixes = ["X-StitchFin-", "X-Tenant-", "X-Identity-"];

    public static bool IsRemoved(string header)
    {
        if (RemovedHeaders.Contains(header))
        {
            return true;
        }

        foreach (var prefix in RemovedPrefixes)
        {
            if (header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static void Apply(TransformBuilderContext builder)
    {
        var signer = builder.Services.GetRequiredService<InternalIdentitySigner>();
        // Clusters are named after the services they reach, so the cluster is the identity's audience.
        var audience = builder.Cluster?.ClusterId ?? builder.Route.ClusterId ?? "";
        builder.AddRequestTransform(context =>
        {
            var headers = context.ProxyRequest.Headers;
            foreach (var header in context.HttpContext.Request.Headers)
            {
                if (IsRemoved(header.Key))
                {
                    headers.Remove(header.Key);
                }
            }

            var requestId = RequestIds.Get(context.HttpContext);
            headers.TryAddWithoutValidation(RequestIds.HeaderName, requestId);
            var call = new InternalCall(audience, context.HttpContext.Request.Method, context.Path.Value ?? "/");
            if (SignedIdentity(signer, context.HttpContext, requestId, call) is { } identity)
            {
                headers.TryAddWithoutValidation(InternalIdentitySigner.HeaderName, identity);
            }

            return ValueTask.CompletedTask;
        });
    }

    private static string? SignedIdentity(InternalIdentitySigner signer, HttpContext context, string requestId, InternalCall call)
    {
        var user = context.User;
        if (Guid.TryParse(user.FindFirst(EdgeClaims.TenantId)?.Value, out var tenantId))
        {
            return signer.Sign(IdentityKind.Tenant, tenantId, requestId, call);
        }

        return user.HasClaim(claim => claim.Type == EdgeClaims.Admin)
            ? signer.Sign(IdentityKind.Admin, Guid.Empty, requestId, call)
            : null;
    }
}
