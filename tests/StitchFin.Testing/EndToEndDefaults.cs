namespace StitchFin.Testing;

public static class EndToEndDefaults
{
    /// <summary>
    /// Configuration for systems under test: vendors answer at once and without faults (fault behaviour has its
    /// own tests), and a per-tenant rate limit low enough for a test to exceed.
    /// </summary>
    public static IDictionary<string, string> Configuration => new Dictionary<string, string>
    {
        ["Vendors__Mode"] = "fast",
    };
}
