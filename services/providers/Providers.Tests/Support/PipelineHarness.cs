using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Adapters;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Randomness;
using StitchFin.Providers.Telemetry;

namespace StitchFin.Providers.Tests.Support;

/// <summary>The real pipelines and completion service around two scripted vendors, on a fake clock.</summary>
public sealed class PipelineHarness : IDisposable
{
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public PipelineHarness(ResilienceOptions? options = null)
    {
        Options = options ?? new ResilienceOptions();
        MeterFactory = _metrics.GetRequiredService<IMeterFactory>();
        A = new ScriptedAdapter(ProviderNames.VendorA, Time);
        B = new ScriptedAdapter(ProviderNames.VendorB, Time);
        var catalog = new ProviderCatalog([new ProviderRegistration(A.Name), new ProviderRegistration(B.Name)]);
        var telemetry = new ProvidersTelemetry(MeterFactory);
        var resilience = Microsoft.Extensions.Options.Options.Create(Options);
        Pipelines = new ProviderPipelines(catalog, resilience, Time, new SeededRandom(7), telemetry);
        Service = new CompletionService([A, B], Pipelines, resilience, Time, telemetry);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 22, 30, 0, TimeSpan.Zero));

    public ResilienceOptions Options { get; }

    public IMeterFactory MeterFactory { get; }

    public ScriptedAdapter A { get; }

    public ScriptedAdapter B { get; }

    public ProviderPipelines Pipelines { get; }

    public CompletionService Service { get; }

    /// <summary>Runs one completion, moving the fake clock forward in small steps until it finishes.</summary>
    public async Task<CompletionOutcome> CompleteAsync(string primary, string? fallback)
    {
        var request = new NormalizedRequest("Be brief.", "Hello there", Guid.NewGuid(), "r1");
        var task = Service.CompleteAsync(primary, fallback, request, CancellationToken.None);
        for (var step = 0; !task.IsCompleted; step++)
        {
            Assert.True(step < 10_000, "the completion did not finish within 100 s of fake time");
            Time.Advance(TimeSpan.FromMilliseconds(10));
            // Lets continuations that the clock released reach their next timer before time moves again.
            await Task.Delay(1);
        }

        return await task;
    }

    public void Dispose() => _metrics.Dispose();
}
