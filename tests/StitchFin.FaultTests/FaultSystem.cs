using System.Collections.Concurrent;

namespace StitchFin.FaultTests;

/// <summary>A system of its own for fault injection: its own broker and database (which tests stop and kill) and its own services.</summary>
public sealed class FaultSystem : IAsyncLifetime
{
    public StitchFinSystem System { get; } = StitchFinSystem.Create(FaultDefaults.Configuration, dedicatedBroker: true, dedicatedDatabase: true);

    public FaultLedger Ledger { get; } = new();

    public Task InitializeAsync() => System.InitializeAsync();

    public async Task DisposeAsync()
    {
        Ledger.WriteSummary();
        await System.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultSystem>
{
    public const string Name = "faults";
}

/// <summary>What the suite did and what it found; printed by the test command at the end.</summary>
public sealed class FaultLedger
{
    private readonly ConcurrentQueue<string> _faults = new();
    private long _requests;
    private long _lost;
    private long _doubleCounted;

    public void Fault(string description) => _faults.Enqueue(description);

    public void Requests(long count) => Interlocked.Add(ref _requests, count);

    public void Lost(long count) => Interlocked.Add(ref _lost, count);

    public void DoubleCounted(long count) => Interlocked.Add(ref _doubleCounted, count);

    public void WriteSummary()
    {
        var lines = new List<string>
        {
            "Fault-injection summary",
            $"  faults injected: {_faults.Count}",
        };
        lines.AddRange(_faults.Select(f => $"    - {f}"));
        lines.Add($"  requests: {_requests}");
        lines.Add($"  lost: {_lost}");
        lines.Add($"  double counted: {_doubleCounted}");
        var folder = Path.Combine(RepositoryRoot.Path, "artifacts", "test-results");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "fault-summary.txt"), lines);
    }
}
