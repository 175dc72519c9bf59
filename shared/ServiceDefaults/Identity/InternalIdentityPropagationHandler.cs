using Microsoft.AspNetCore.Http;

namespace StitchFin.ServiceDefaults.Identity;

/// <summary>
/// Re-signs the current request's identity (same tenant and request id, fresh timestamp, this service as issuer) for
/// the one call it makes to <paramref name="audience"/>.
/// </summary>
public sealed class InternalIdentityPropagationHandler(IHttpContextAccessor accessor, InternalIdentitySigner signer, string audience) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Headers.Contains(InternalIdentitySigner.HeaderName) && accessor.HttpContext is not null)
        {
            var tenant = new CurrentTenant(accessor);
            request.Headers.TryAddWithoutValidation(InternalIdentitySigner.HeaderName,
                signer.Sign(tenant.Kind, tenant.Id, tenant.RequestId, InternalCall.For(audience, request)));
        }

        return base.SendAsync(request, cancellationToken);
    }
}
