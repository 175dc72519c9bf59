using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Bench;

/// <summary>The real metering service on in-process Kestrel at a free loopback port, in the Production environment.</summary>
public sealed class MeteringServer : WebApplicationFactory<Program>
{
    private readonly IDictionary<string, string?> _configuration;

    public MeteringServer(IDictionary<string, string?> configuration)
    {
        // Production, as deployed, takes no identity root: metering gets only the edge's key for it.
        _configuration = configuration.Where(setting => setting.Key != "Identity:SigningKey").ToDictionary();
        _configuration[InternalIdentityKeys.Setting(InternalIdentitySigner.EdgeIssuer, "metering")] =
            InternalIdentityKeys.Derive(configuration["Identity:SigningKey"]!, InternalIdentitySigner.EdgeIssuer, "metering");
        Port = FreeLoopbackPort();
        UseKestrel(options => options.Listen(IPAddress.Loopback, Port));
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// <summary>A plain socket client whose requests carry an identity signed with the configured key, as the edge does.</summary>
    public HttpClient CreateSignedClient(Guid tenantId, string signingKey)
    {
        var signer = new InternalIdentitySigner(Options.Create(new InternalIdentityOptions { SigningKey = signingKey }), TimeProvider.System, new ServiceName("gateway"));
        return new HttpClient(new SigningHandler(signer, tenantId) { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = BaseAddress };
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _configuration)
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class SigningHandler(InternalIdentitySigner signer, Guid tenantId) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add(InternalIdentitySigner.HeaderName, signer.Sign(IdentityKind.Tenant, tenantId, Guid.NewGuid().ToString("N"), InternalCall.For("metering", request)));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
