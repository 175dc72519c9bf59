using Microsoft.Extensions.Options;

namespace StitchFin.Providers.Vendors;

/// <summary>
/// Reads the <c>Vendors</c> section by hand: the binder cannot put "Mode" in a property and the provider
/// sub-sections in a dictionary at the same level, and unknown keys must be reported rather than ignored.
/// </summary>
public sealed class VendorsOptionsSetup(IConfiguration configuration) : IConfigureOptions<VendorsOptions>
{
    public void Configure(VendorsOptions options)
    {
        var section = configuration.GetSection(VendorsOptions.SectionName);
        foreach (var child in section.GetChildren())
        {
            if (child.GetChildren().Any())
            {
                options.Vendors[child.Key] = child.Get<VendorOptions>(binder => binder.ErrorOnUnknownConfiguration = true) ?? new VendorOptions();
            }
            else if (string.Equals(child.Key, nameof(VendorsOptions.Mode), StringComparison.OrdinalIgnoreCase))
            {
                options.Mode = child.Value;
            }
            else
            {
                options.UnknownSettings.Add(child.Key);
            }
        }
    }
}

/// <summary>Checks the <c>Vendors</c> section against the simulated vendors' rules.</summary>
public sealed class VendorsOptionsValidator : IValidateOptions<VendorsOptions>
{
    private const int MaxLatencyMs = 60_000;

    private static readonly string[] Vendors = SimulatedVendor.All.Select(v => v.Name).ToArray();

    public ValidateOptionsResult Validate(string? name, VendorsOptions options)
    {
        var errors = new List<string>();
        var known = string.Join(", ", Vendors);
        errors.AddRange(options.UnknownSettings.Select(key =>
            $"Vendors:{key} is not a known setting; use Vendors:Mode or a simulated vendor's section ({known})."));
        errors.AddRange(options.Vendors.Keys
            .Where(key => !Vendors.Contains(key, StringComparer.OrdinalIgnoreCase))
            .Select(key => $"Vendors:{key} names no simulated vendor; they are {known} (other providers are configured under Providers:{key})."));

        if (options.Mode is { } mode && !IsMode(mode))
        {
            errors.Add($"Vendors:Mode '{mode}' is not one of {string.Join(", ", VendorModes.All)}.");
        }

        foreach (var vendor in SimulatedVendor.All)
        {
            if (options.Vendors.GetValueOrDefault(vendor.Name)?.Mode is { } vendorMode && !IsMode(vendorMode))
            {
                errors.Add($"Vendors:{vendor.Name}:Mode '{vendorMode}' is not one of {string.Join(", ", VendorModes.All)}.");
                continue;
            }

            errors.AddRange(Check(options.Resolve(vendor)));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static IEnumerable<string> Check(VendorProfile profile)
    {
        var prefix = $"Vendors:{profile.Name}";
        if (profile.LatenciesMs.Count == 0)
        {
            yield return $"{prefix}:LatenciesMs must list at least one latency.";
        }
        else if (profile.LatenciesMs.Any(ms => ms is < 0 or > MaxLatencyMs))
        {
            yield return $"{prefix}:LatenciesMs values must be between 0 and {MaxLatencyMs} ms.";
        }

        if (double.IsNaN(profile.ErrorRate) || profile.ErrorRate is < 0 or > 1)
        {
            yield return $"{prefix}:ErrorRate {profile.ErrorRate} must be between 0 and 1.";
        }

        if (profile.RetryAfterMs.Count == 0)
        {
            yield return $"{prefix}:RetryAfterMs must list at least one value.";
        }
        else if (profile.RetryAfterMs.Any(ms => ms is < 0 or > MaxLatencyMs))
        {
            yield return $"{prefix}:RetryAfterMs values must be between 0 and {MaxLatencyMs} ms.";
        }
    }

    private static bool IsMode(string mode) => VendorModes.All.Contains(mode.Trim().ToLowerInvariant());
}
