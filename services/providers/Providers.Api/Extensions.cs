using Microsoft.Extensions.Options;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Adapters;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Randomness;
using StitchFin.Providers.Telemetry;
using StitchFin.Providers.Vendors;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Providers;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();
        builder.Services.AddSingleton<ProvidersTelemetry>();
        builder.AddSimulatedVendors();
        builder.AddProviderAdapter<VendorAAdapter>(ProviderNames.VendorA);
        builder.AddProviderAdapter<VendorBAdapter>(ProviderNames.VendorB);
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

    /// <summary>
    /// A provider callable through <c>/internal/completions</c>: its adapter gets a typed client aimed at the
    /// vendor's <c>Vendors:{Name}:BaseUrl</c>.
    /// </summary>
    public static IHostApplicationBuilder AddProviderAdapter<TAdapter>(this IHostApplicationBuilder builder, string name)
        where TAdapter : class, IProviderAdapter
    {
        builder.Services.AddSingleton(new ProviderRegistration(name));
        builder.Services.AddHttpClient<TAdapter>((sp, http) =>
        {
            http.BaseAddress = new Uri(sp.GetRequiredService<IOptions<VendorsOptions>>().Value.BaseUrlFor(name));
            // The resilience pipeline's per-attempt timeout and overall deadline govern how long a call may take.
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        builder.Services.AddTransient<IProviderAdapter>(sp => sp.GetRequiredService<TAdapter>());
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
        builder.Services.AddSingleton<ProviderCatalog>();
        builder.Services.AddSingleton<ProviderPipelines>();
        builder.Services.AddScoped<CompletionService>();
        return builder;
    }
}
