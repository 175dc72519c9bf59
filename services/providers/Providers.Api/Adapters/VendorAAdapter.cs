using StitchFin.Contracts.Providers;

namespace StitchFin.Providers.Adapters;

public sealed class VendorAAdapter(HttpClient http) : SimulatedVendorAdapter(http)
{
    public override string Name => ProviderNames.VendorA;
}
