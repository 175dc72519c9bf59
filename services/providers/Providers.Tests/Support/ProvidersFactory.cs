using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Providers.Upstreams;
using StitchFin.Testing;

namespace StitchFin.Providers.Tests.Support;

/// <summary>
/// The providers service in memory. By default its upstream calls go to its own test server, so the completion API
/// reaches the simulated vendors over (in-memory) HTTP exactly as it does over the network; with
/// <paramref name="realNetwork"/> they go out over loopback sockets, to a real upstream such as the fault-injecting one.
/// </summary>
public sealed class ProvidersFactory(IDictionary<string, string?> settings, bool realNetwork = false) : ServiceFactory<Program>(WithIdentity(settings))
{
    public ProvidersFactory()
        : this(new Dictionary<string, string?>())
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (!realNetwork)
        {
            builder.ConfigureServices(services => services.AddHttpClient<IProviderAdapter, UpstreamAdapter>()
                .ConfigurePrimaryHttpMessageHandler(() => Server.CreateHandler()));
        }
    }

    private static Dictionary<string, string?> WithIdentity(IDictionary<string, string?> settings) =>
        new(settings) { ["Identity:SigningKey"] = TestInfrastructure.SigningKey };
}
