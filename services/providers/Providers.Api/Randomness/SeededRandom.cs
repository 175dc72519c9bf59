namespace StitchFin.Providers.Randomness;

/// <summary>
/// A <see cref="Random"/> with a known seed behind a lock: <see cref="Random"/> itself is not thread-safe, and
/// <see cref="Random.Shared"/> cannot be seeded.
/// </summary>
public sealed class SeededRandom(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);
    private readonly Lock _lock = new();

    public int Seed { get; } = seed;

    /// <summary>The configured seed, or a fresh one when none is configured (the caller logs it, so a run can be replayed).</summary>
    public static SeededRandom Create(int? seed) => new(seed ?? Random.Shared.Next());

    public int Next(int minInclusive, int maxExclusive)
    {
        lock (_lock)
        {
            return _random.Next(minInclusive, maxExclusive);
        }
    }

    public double NextDouble()
    {
        lock (_lock)
        {
            return _random.NextDouble();
        }
    }
}
