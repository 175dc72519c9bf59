using Microsoft.Extensions.Options;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Randomness;
using StitchFin.Providers.Telemetry;
using StitchFin.Providers.Upstreams;
using StitchFin.Providers.Vendors;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Providers;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity(siblings: "conversation");
        builder.Services.AddSingleton<ProvidersTelemetry>();
        builder.AddSimulatedVendors();
        builder.AddProviderCatalog();
        builder.AddResilientCompletions();
        return builder;
    }

    /// <summary>The simulated vendor APIs this process hosts, each with its own seeded randomness.</summary>
    public static IHostApplicationBuilder AddSimulatedVendors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IConfigureOptions<VendorsOptions>, VendorsOptionsSetup>();
        builder.Services.AddSingleton<IValidateOptions<VendorsOptions>, VendorsOptionsValidator>();
        builder.Services.AddOptions<VendorsOptions>().ValidateOnStart();

        foreach (var vendor in SimulatedVendor.All)
        {
            builder.Services.AddKeyedSingleton<IRandomSource>(vendor.Name, (sp, _) =>
                SeededRandom.Create(sp.GetRequiredService<IOptions<VendorsOptions>>().Value.Resolve(vendor).Seed));
        }

        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<VendorsOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var simulators = SimulatedVendor.All.Select(vendor =>
                new VendorSimulator(options.Resolve(vendor), sp.GetRequiredKeyedService<IRandomSource>(vendor.Name), time));
            return new VendorSimulators(simulators, sp.GetRequiredService<ILogger<VendorSimulators>>());
        });
        return builder;
    }

    /// <summary>The <c>Providers</c> catalogue, checked at start; and the one HTTP client every upstream call uses.</summary>
    public static IHostApplicationBuilder AddProviderCatalog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IConfigureOptions<ProviderCatalogOptions>, ProviderCatalogOptionsSetup>();
        builder.Services.AddSingleton<IValidateOptions<ProviderCatalogOptions>, ProviderCatalogOptionsValidator>();
        builder.Services.AddOptions<ProviderCatalogOptions>().ValidateOnStart();
        builder.Services.AddSingleton<ProviderCatalog>();
        builder.Services.AddHttpClient<IProviderAdapter, UpstreamAdapter>(http =>
            {
                // The attempt's own limits (first token, idle) and the overall deadline govern how long a call may take.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            // An upstream may only be reached at its configured address: a redirect elsewhere is an invalid answer.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        return builder;
    }

    public static IHostApplicationBuilder AddResilientCompletions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ResilienceOptions>()
            .Bind(builder.Configuration.GetSection(ResilienceOptions.SectionName), binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ResilienceOptions>, ResilienceOptionsValidator>();
        builder.Services.AddKeyedSingleton<IRandomSource>(ResilienceOptions.JitterRandomKey, (sp, _) =>
            SeededRandom.Create(sp.GetRequiredService<IOptions<ResilienceOptions>>().Value.JitterSeed));
        builder.Services.AddSingleton<TargetPipelines>();
        builder.Services.AddScoped<CompletionEngine>();
        return builder;
    }
}
