using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Testing;

namespace StitchFin.Providers.Tests.Support;

/// <summary>
/// The providers service in memory, with its vendor clients sent to its own test server: the completion API
/// reaches the simulated vendors over (in-memory) HTTP exactly as it does over the network.
/// </summary>
public sealed class ProvidersFactory(IDictionary<string, string?> settings) : ServiceFactory<Program>(WithIdentity(settings))
{
    public ProvidersFactory()
        : this(new Dictionary<string, string?>())
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.ConfigureHttpClientDefaults(http =>
            http.ConfigurePrimaryHttpMessageHandler(() => Server.CreateHandler())));
    }

    private static Dictionary<string, string?> WithIdentity(IDictionary<string, string?> settings) =>
        new(settings) { ["Identity:SigningKey"] = TestInfrastructure.SigningKey };
}
