using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;

namespace StitchFin.Providers.Vendors;

/// <summary>What distinguishes one simulated vendor from the other: its route, model, prices, defaults and how it fails.</summary>
public sealed record SimulatedVendor(
    string Name,
    string Slug,
    string Model,
    ProviderPrice DefaultPrice,
    IReadOnlyList<int> DefaultLatenciesMs,
    double DefaultErrorRate,
    int FaultStatus)
{
    public static readonly SimulatedVendor VendorA = new(
        ProviderNames.VendorA, "vendor-a", "vendor-a", new ProviderPrice(0.0030m, 0.0060m),
        [80, 120, 200, 400, 1800, 2500], 0.10, StatusCodes.Status500InternalServerError);

    public static readonly SimulatedVendor VendorB = new(
        ProviderNames.VendorB, "vendor-b", "vendor-b", new ProviderPrice(0.0020m, 0.0040m),
        [80, 120, 200, 300], 0.15, StatusCodes.Status429TooManyRequests);

    public static readonly IReadOnlyList<SimulatedVendor> All = [VendorA, VendorB];

    /// <summary>How long VendorB asks callers to back off when it answers 429.</summary>
    public static readonly IReadOnlyList<int> DefaultRetryAfterMs = [250, 500, 1000];

    /// <summary>Where the providers service hosts this vendor's OpenAI-compatible API by default.</summary>
    public Uri DefaultBaseUrl => new($"http://127.0.0.1:5103/vendors/{Slug}/v1/");
}
