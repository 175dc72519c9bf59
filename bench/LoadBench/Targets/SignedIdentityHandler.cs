using System.Globalization;
using Microsoft.Extensions.Options;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.LoadBench.Targets;

/// <summary>
/// Signs each request as the edge would (tenant identity, fresh timestamp), so the bench can call an internal
/// service directly with the signing key the system under test was started with.
/// </summary>
public sealed class SignedIdentityHandler(InternalIdentitySigner signer, Guid tenantId, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public delegate SignedIdentityHandler Factory(HttpMessageHandler inner);

    private long _requests;

    public static Factory For(string signingKey, Guid tenantId)
    {
        var signer = new InternalIdentitySigner(Options.Create(new InternalIdentityOptions { SigningKey = signingKey }), TimeProvider.System);
        return inner => new SignedIdentityHandler(signer, tenantId, inner);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var requestId = "bench-" + Interlocked.Increment(ref _requests).ToString(CultureInfo.InvariantCulture);
        request.Headers.TryAddWithoutValidation(InternalIdentitySigner.HeaderName, signer.Sign(IdentityKind.Tenant, tenantId, requestId));
        return base.SendAsync(request, cancellationToken);
    }
}
