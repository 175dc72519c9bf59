using Microsoft.AspNetCore.Http;

namespace StitchFin.ServiceDefaults.Identity;

/// <summary>
/// Signs the one call this service makes to <paramref name="audience"/> with its own service identity, acting for the
/// current request's tenant (same tenant and request id, fresh timestamp, this service as issuer). Only the edge can
/// sign a tenant identity, so a sibling never forwards one.
/// </summary>
public sealed class InternalIdentityPropagationHandler(IHttpContextAccessor accessor, InternalIdentitySigner signer, string audience) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Headers.Contains(InternalIdentitySigner.HeaderName) && accessor.HttpContext is not null)
        {
            var tenant = new CurrentTenant(accessor);
            request.Headers.TryAddWithoutValidation(InternalIdentitySigner.HeaderName,
                signer.Sign(IdentityKind.Service, tenant.Id, tenant.RequestId, InternalCall.For(audience, request)));
        }

        return base.SendAsync(request, cancellationToken);
    }
}
