using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Randomness;
using StitchFin.Providers.Telemetry;
using StitchFin.Providers.Upstreams;

namespace StitchFin.Providers.Tests.Support;

/// <summary>The real pipelines and completion engine around scripted upstreams (one per provider), on a fake clock.</summary>
public sealed class PipelineHarness : IDisposable
{
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public PipelineHarness(ResilienceOptions? options = null)
    {
        Options = options ?? new ResilienceOptions();
        MeterFactory = _metrics.GetRequiredService<IMeterFactory>();
        Catalog = new ProviderCatalog(Microsoft.Extensions.Options.Options.Create(new ProviderCatalogOptions()));
        Adapter = new ScriptedAdapter(Time);
        var telemetry = new ProvidersTelemetry(MeterFactory);
        var resilience = Microsoft.Extensions.Options.Options.Create(Options);
        Pipelines = new TargetPipelines(resilience, Time, new SeededRandom(7), telemetry);
        Engine = new CompletionEngine(Adapter, Pipelines, resilience, Time, telemetry, NullLogger<CompletionEngine>.Instance);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 22, 30, 0, TimeSpan.Zero));

    public ResilienceOptions Options { get; }

    public IMeterFactory MeterFactory { get; }

    public ProviderCatalog Catalog { get; }

    public ScriptedAdapter Adapter { get; }

    public ScriptedUpstream A => Adapter.For(ProviderNames.VendorA);

    public ScriptedUpstream B => Adapter.For(ProviderNames.VendorB);

    public TargetPipelines Pipelines { get; }

    public CompletionEngine Engine { get; }

    public Target Target(string provider) => new(Catalog.Find(provider)!, Catalog.Find(provider)!.DefaultModel!);

    /// <summary>Runs one completion, moving the fake clock forward in small steps until it finishes.</summary>
    public async Task<CompletionOutcome> CompleteAsync(string primary, string? fallback, ICompletionStream? stream = null)
    {
        var targets = fallback is null ? new[] { Target(primary) } : [Target(primary), Target(fallback)];
        var task = Engine.CompleteAsync(targets, new NormalizedRequest("Be brief.", "Hello there"), stream, CancellationToken.None);
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

/// <summary>Collects what a streamed completion sent its caller.</summary>
public sealed class RecordingStream : ICompletionStream
{
    public List<StreamStart> Starts { get; } = [];

    public List<string> Deltas { get; } = [];

    public ValueTask StartAsync(StreamStart start)
    {
        Starts.Add(start);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeltaAsync(string text)
    {
        Deltas.Add(text);
        return ValueTask.CompletedTask;
    }
}
