namespace StitchFin.FaultTests;

public static class FaultDefaults
{
    /// <summary>
    /// The end-to-end settings, with the per-tenant rate limit out of the way (the load here is one tenant's), and
    /// verified keys trusted by the edge for longer than any test runs, so that only the bus can make the edge refuse
    /// a revoked key. Every service takes in little work at once (48 requests at work, 16 waiting at most 0.5 s), so a
    /// burst from this one machine overloads it.
    /// </summary>
    public static IDictionary<string, string> Configuration => new Dictionary<string, string>(EndToEndDefaults.Configuration)
    {
        ["Edge__RateLimit__TokenLimit"] = "1000000",
        ["Edge__RateLimit__TokensPerPeriod"] = "1000000",
        ["Edge__ApiKeys__CacheDuration"] = "00:10:00",
        ["Admission__PermitLimit"] = "48",
        ["Admission__QueueLimit"] = "16",
        ["Admission__MaxQueueWait"] = "00:00:00.500",
    };
}
