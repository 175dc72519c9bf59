namespace StitchFin.Providers.Vendors;

public static class VendorModes
{
    /// <summary>The vendor's own latency set and fault rate.</summary>
    public const string Default = "default";

    /// <summary>Zero latency, no faults: for end-to-end tests and benchmarks of everything but the vendors.</summary>
    public const string Fast = "fast";

    /// <summary>Zero latency, every call faults: for fallback and circuit-breaker tests.</summary>
    public const string Failing = "failing";

    public static readonly IReadOnlyList<string> All = [Default, Fast, Failing];
}

/// <summary>
/// The <c>Vendors</c> section: how the simulated vendors behave (where they are is the provider catalogue's
/// <c>Providers:{Name}:BaseUrl</c>): a global <c>Mode</c> plus one sub-section per simulated vendor. Explicit per-vendor values
/// win over what the mode implies, so <c>Vendors:Mode=fast</c> with <c>Vendors:VendorA:ErrorRate=0.5</c> works.
/// </summary>
public sealed class VendorsOptions
{
    public const string SectionName = "Vendors";

    public string? Mode { get; set; }

    /// <summary>Every sub-section of <c>Vendors</c> by its key, known provider or not (validation reports unknown ones).</summary>
    public Dictionary<string, VendorOptions> Vendors { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Keys directly under <c>Vendors</c> that are neither <c>Mode</c> nor a sub-section.</summary>
    public List<string> UnknownSettings { get; } = [];

    public VendorProfile Resolve(SimulatedVendor vendor)
    {
        var options = Vendors.GetValueOrDefault(vendor.Name) ?? new VendorOptions();
        var mode = (options.Mode ?? Mode ?? VendorModes.Default).Trim().ToLowerInvariant();
        IReadOnlyList<int> latencies = mode == VendorModes.Default ? vendor.DefaultLatenciesMs : [0];
        var errorRate = mode switch
        {
            VendorModes.Fast => 0,
            VendorModes.Failing => 1,
            _ => vendor.DefaultErrorRate,
        };
        return new VendorProfile(
            vendor,
            mode,
            options.LatenciesMs ?? latencies,
            options.ErrorRate ?? errorRate,
            options.RetryAfterMs ?? SimulatedVendor.DefaultRetryAfterMs,
            options.Seed);
    }
}

/// <summary>One <c>Vendors:{Name}</c> section; every value is optional.</summary>
public sealed class VendorOptions
{
    public string? Mode { get; set; }

    public int[]? LatenciesMs { get; set; }

    public double? ErrorRate { get; set; }

    public int[]? RetryAfterMs { get; set; }

    public int? Seed { get; set; }
}

/// <summary>A vendor's effective behaviour once mode, defaults and explicit settings are combined.</summary>
public sealed record VendorProfile(
    SimulatedVendor Vendor,
    string Mode,
    IReadOnlyList<int> LatenciesMs,
    double ErrorRate,
    IReadOnlyList<int> RetryAfterMs,
    int? Seed)
{
    public string Name => Vendor.Name;
}
