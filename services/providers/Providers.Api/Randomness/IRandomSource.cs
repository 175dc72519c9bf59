namespace StitchFin.Providers.Randomness;

/// <summary>Randomness as a dependency, so the simulated vendors and the retry jitter are reproducible in tests.</summary>
public interface IRandomSource
{
    /// <summary>An integer in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    int Next(int minInclusive, int maxExclusive);

    /// <summary>A double in [0, 1).</summary>
    double NextDouble();
}
