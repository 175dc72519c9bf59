namespace StitchFin.Testing;

public static class EndToEndDefaults
{
    /// <summary>
    /// Configuration for systems under test: vendors answer at once and without faults (fault behaviour has its
    /// own tests). The per-tenant rate limit keeps its production bucket size but refills once a minute, so a
    /// burst overruns it however slowly a loaded machine serves the burst.
    /// </summary>
    public static IDictionary<string, string> Configuration => new Dictionary<string, string>
    {
        ["Vendors__Mode"] = "fast",
        ["Edge__RateLimit__TokensPerPeriod"] = "200",
        ["Edge__RateLimit__ReplenishmentPeriod"] = "00:01:00",
    };
}
