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
        // Limits short enough that tests of silent and stalled upstreams end soon, long enough that a loaded machine's
        // slow answer is never taken for a fault.
        ["Resilience__FirstTokenTimeoutMs"] = "3000",
        ["Resilience__IdleTimeoutMs"] = "3000",
        ["Resilience__RetryBaseDelayMs"] = "100",
        ["Resilience__RetryMaxDelayMs"] = "400",
        ["Resilience__BreakerMinimumThroughput"] = "8",
        ["Resilience__BreakDurationMs"] = "3000",
    };

    /// <summary>
    /// One provider entry (<c>openai-compatible</c> unless <paramref name="kind"/> says <c>openai-responses</c> or
    /// <c>anthropic</c>): the block of settings a deployment adds for a real upstream.
    /// </summary>
    public static IDictionary<string, string> UpstreamProvider(string name, Uri baseUrl, string apiKey, string kind = "openai-compatible") => new Dictionary<string, string>
    {
        [$"Providers__{name}__Kind"] = kind,
        [$"Providers__{name}__BaseUrl"] = baseUrl.ToString(),
        [$"Providers__{name}__ApiKey"] = apiKey,
        [$"Providers__{name}__InputPer1KTokens"] = "0.0010",
        [$"Providers__{name}__OutputPer1KTokens"] = "0.0020",
        [$"Providers__{name}__Headers__X-Upstream-Tenant"] = "stitchfin-e2e",
    };
}
