using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests.Support;

/// <summary>Tenancy on real Postgres and RabbitMQ, with the pepper set and the clock under the test's control.</summary>
public sealed class TenancyFactory(IDictionary<string, string?> configuration, TimeProvider time, Action<IServiceCollection>? services = null)
    : ServiceFactory<Program>(WithPepper(configuration))
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(collection =>
        {
            collection.AddSingleton(time);
            services?.Invoke(collection);
        });
    }

    /// <summary>The bus connects in the background; consumers only see messages published after their queue is bound.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var client = CreateClient();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var response = await client.GetAsync("/health/ready", deadline.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(200, deadline.Token);
        }
    }

    private static Dictionary<string, string?> WithPepper(IDictionary<string, string?> configuration) =>
        new(configuration) { ["ApiKeys:Pepper"] = TestPepper.Value };
}
