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

    /// <summary>A client whose every request carries a fresh identity signed for <paramref name="tenantId"/>.</summary>
    public HttpClient CreateClientFor(Guid tenantId, IdentityKind kind = IdentityKind.Tenant)
    {
        var signer = Services.GetRequiredService<InternalIdentitySigner>();
        return CreateDefaultClient(new SigningHandler(signer, kind, tenantId));
    }

    /// <summary>An identity signed by this service's key for one call to it, as the edge would sign it.</summary>
    public string SignFor(HttpMethod method, string path, Guid tenantId, IdentityKind kind = IdentityKind.Tenant, string? audience = null)
    {
        var signer = Services.GetRequiredService<InternalIdentitySigner>();
        return signer.Sign(kind, tenantId, Guid.NewGuid().ToString("N"), new InternalCall(audience ?? signer.Audience, method.Method, path));
    }

    private sealed class SigningHandler(InternalIdentitySigner signer, IdentityKind kind, Guid tenantId) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove(InternalIdentitySigner.HeaderName);
            request.Headers.Add(InternalIdentitySigner.HeaderName,
                signer.Sign(kind, tenantId, Guid.NewGuid().ToString("N"), InternalCall.For(signer.Audience, request)));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
