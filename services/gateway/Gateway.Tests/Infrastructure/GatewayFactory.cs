using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StitchFin.Testing;

namespace StitchFin.Gateway.Tests.Infrastructure;

/// <summary>The gateway in-process, with its logs captured and, optionally, services replaced (time).</summary>
public sealed class GatewayFactory(IDictionary<string, string?> configuration, Action<IServiceCollection>? replaceServices = null)
    : ServiceFactory<Program>(configuration)
{
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        builder.ConfigureTestServices(services => replaceServices?.Invoke(services));
    }
}
