using StitchFin.Contracts.Providers;

namespace StitchFin.Providers.Adapters;

public sealed class VendorBAdapter(HttpClient http) : SimulatedVendorAdapter(http)
{
    public override string Name => ProviderNames.VendorB;
}
