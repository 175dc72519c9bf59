namespace StitchFin.Providers.Adapters;

/// <summary>A provider this process can call, registered next to its adapter.</summary>
public sealed record ProviderRegistration(string Name);

/// <summary>The provider names that requests may use, in registration order.</summary>
public sealed class ProviderCatalog(IEnumerable<ProviderRegistration> registrations)
{
    public IReadOnlyList<string> Names { get; } = registrations.Select(r => r.Name).Distinct(StringComparer.Ordinal).ToArray();

    public bool Contains(string name) => Names.Contains(name, StringComparer.Ordinal);
}
