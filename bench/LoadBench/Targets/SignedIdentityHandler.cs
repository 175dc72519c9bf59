using System.Globalization;
using Microsoft.Extensions.Options;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.LoadBench.Targets;

/// <summary>
/// Signs each request as the edge would (tenant identity, fresh timestamp), so the bench can call an internal
/// service directly with the signing key the system under test was started with.
/// </summary>
public sealed class SignedIdentityHandler(InternalIdentitySigner signer, Guid tenantId, string audience, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public delegate SignedIdentityHandler Factory(HttpMessageHandler inner);

    private long _requests;

    /// <summary>Handlers that sign, as the edge does, for calls to the service <paramref name="audience"/>.</summary>
    public static Factory For(string signingKey, Guid tenantId, string audience)
    {
        var signer = new InternalIdentitySigner(Options.Create(new InternalIdentityOptions { SigningKey = signingKey }), TimeProvider.System, new ServiceName("gateway"));
        return inner => new SignedIdentityHandler(signer, tenantId, audience, inner);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var requestId = "bench-" + Interlocked.Increment(ref _requests).ToString(CultureInfo.InvariantCulture);
        request.Headers.TryAddWithoutValidation(InternalIdentitySigner.HeaderName, signer.Sign(IdentityKind.Tenant, tenantId, requestId, InternalCall.For(audience, request)));
        return base.SendAsync(request, cancellationToken);
    }
}
