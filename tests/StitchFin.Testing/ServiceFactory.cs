using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Testing;

/// <summary>A service under test, configured for real infrastructure, with clients that carry a signed identity.</summary>
public class ServiceFactory<TProgram>(IDictionary<string, string?> configuration) : WebApplicationFactory<TProgram>
    where TProgram : class
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // UseSetting, unlike ConfigureAppConfiguration, is visible to Program's own reads before Build().
        foreach (var (key, value) in configuration)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>The service's own name: the audience of every identity signed for it.</summary>
    public string Audience => Services.GetRequiredService<ServiceName>().Value;

    /// <summary>
    /// A client whose every request carries a fresh identity for <paramref name="tenantId"/>, signed as the edge (or as
    /// the sibling <paramref name="issuer"/>) with the key derived from the test root, on the service's clock.
    /// </summary>
    public HttpClient CreateClientFor(Guid tenantId, IdentityKind kind = IdentityKind.Tenant, string issuer = InternalIdentitySigner.EdgeIssuer) =>
        CreateDefaultClient(new SigningHandler(SignerAs(issuer), Audience, kind, tenantId));

    /// <summary>An identity signed for one call to this service, as the edge would sign it.</summary>
    public string SignFor(HttpMethod method, string path, Guid tenantId, IdentityKind kind = IdentityKind.Tenant, string? audience = null) =>
        SignerAs(InternalIdentitySigner.EdgeIssuer).Sign(kind, tenantId, Guid.NewGuid().ToString("N"), new InternalCall(audience ?? Audience, method.Method, path));

    private InternalIdentitySigner SignerAs(string issuer) => new(
        Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<InternalIdentityOptions>>(), Services.GetRequiredService<TimeProvider>(), new ServiceName(issuer));

    private sealed class SigningHandler(InternalIdentitySigner signer, string audience, IdentityKind kind, Guid tenantId) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove(InternalIdentitySigner.HeaderName);
            request.Headers.Add(InternalIdentitySigner.HeaderName,
                signer.Sign(kind, tenantId, Guid.NewGuid().ToString("N"), InternalCall.For(audience, request)));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
