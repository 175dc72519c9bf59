using System.Net;
using System.Net.Http.Json;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Metering.Usage;
using StitchFin.Testing;

namespace StitchFin.Metering.Tests;

/// <summary>A metering instance on real infrastructure, optionally on a test clock.</summary>
public sealed class MeteringFactory(IDictionary<string, string?> configuration, TimeProvider? time = null)
    : ServiceFactory<Program>(configuration)
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public IBus Bus => Services.GetRequiredService<IBus>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (time is not null)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(time));
        }
    }

    /// <summary>Waits until the database is migrated and the consumer's queue is bound, so nothing published is lost.</summary>
    public async Task WaitUntilReadyAsync()
    {
        var client = CreateClient();
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            using var response = await client.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"metering never became ready: {await response.Content.ReadAsStringAsync()}");
            }

            await Task.Delay(100);
        }
    }

    public async Task<UsageReport> GetUsageAsync(Guid tenantId, string from, string to)
    {
        using var response = await CreateClientFor(tenantId).GetAsync($"/usage?from={from}&to={to}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<UsageReport>(ServiceDefaults.Extensions.JsonOptions))!;
    }

    /// <summary>
    /// Usage is eventually consistent: polls until <paramref name="done"/> holds or patience runs out, and returns
    /// the last report either way so the caller's exact assertions explain any shortfall.
    /// </summary>
    public async Task<UsageReport> WaitForUsageAsync(Guid tenantId, string from, string to, Func<UsageReport, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var report = await GetUsageAsync(tenantId, from, to);
            if (done(report) || DateTime.UtcNow > deadline)
            {
                return report;
            }

            await Task.Delay(100);
        }
    }
}

/// <summary>One fresh database and vhost with one ready metering instance, shared by a test class.</summary>
public sealed class MeteringFixture : IAsyncLifetime
{
    private TestInfrastructure? _infrastructure;

    public MeteringFactory Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync("metering");
        Factory = new MeteringFactory(_infrastructure.Configuration);
        await Factory.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }
}
