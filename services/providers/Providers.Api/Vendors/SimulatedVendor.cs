using StitchFin.Contracts.Providers;

namespace StitchFin.Providers.Vendors;

/// <summary>What distinguishes one simulated vendor from the other: its route, its defaults and how it fails.</summary>
public sealed record SimulatedVendor(
    string Name,
    string Slug,
    IReadOnlyList<int> DefaultLatenciesMs,
    double DefaultErrorRate,
    int FaultStatus)
{
    public static readonly SimulatedVendor VendorA = new(
        ProviderNames.VendorA, "vendor-a", [80, 120, 200, 400, 1800, 2500], 0.10, StatusCodes.Status500InternalServerError);

    public static readonly SimulatedVendor VendorB = new(
        ProviderNames.VendorB, "vendor-b", [80, 120, 200, 300], 0.15, StatusCodes.Status429TooManyRequests);

    public static readonly IReadOnlyList<SimulatedVendor> All = [VendorA, VendorB];

    /// <summary>How long VendorB asks callers to back off when it answers 429.</summary>
    public static readonly IReadOnlyList<int> DefaultRetryAfterMs = [250, 500, 1000];

    public Uri DefaultBaseUrl => new($"http://127.0.0.1:5103/vendors/{Slug}/");
}
