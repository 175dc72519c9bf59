namespace StitchFin.Testing;

public static class EndToEndDefaults
{
    /// <summary>
    /// Configuration for systems under test: vendors answer at once and without faults (fault behaviour has its
    /// own tests). Everything else as in production, including the per-tenant rate limit.
    /// </summary>
    public static IDictionary<string, string> Configuration => new Dictionary<string, string>
    {
        ["Vendors__Mode"] = "fast",
    };
}
