using Microsoft.Extensions.Options;

namespace StitchFin.Providers.Catalog;

/// <summary>The configured providers, by name, in configuration order (the simulated vendors first).</summary>
public sealed class ProviderCatalog
{
    private readonly Dictionary<string, ProviderEntry> _byName;

    public ProviderCatalog(IOptions<ProviderCatalogOptions> options)
    {
        Entries = options.Value.Build();
        _byName = Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    public IReadOnlyList<ProviderEntry> Entries { get; }

    public IEnumerable<string> Names => Entries.Select(e => e.Name);

    public ProviderEntry? Find(string name) => _byName.GetValueOrDefault(name);
}
