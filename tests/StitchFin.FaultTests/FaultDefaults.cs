namespace StitchFin.FaultTests;

public static class FaultDefaults
{
    /// <summary>
    /// The end-to-end settings, with the per-tenant rate limit out of the way (the load here is one tenant's), and
    /// verified keys trusted by the edge for longer than any test runs, so that only the bus can make the edge refuse
    /// a revoked key.
    /// </summary>
    public static IDictionary<string, string> Configuration => new Dictionary<string, string>(EndToEndDefaults.Configuration)
    {
        ["Edge__RateLimit__TokenLimit"] = "1000000",
        ["Edge__RateLimit__TokensPerPeriod"] = "1000000",
        ["Edge__ApiKeys__CacheDuration"] = "00:10:00",
    };
}
