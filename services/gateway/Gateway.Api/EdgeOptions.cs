namespace StitchFin.Gateway;

/// <summary>Settings of the edge, bound from the <c>Edge</c> configuration section.</summary>
public sealed class EdgeOptions
{
    public const string SectionName = "Edge";

    /// <summary>
    /// The secret <c>POST /tenants</c> requires in <c>X-Admin-Key</c>: outside Development at least 32 characters;
    /// empty (Development only) refuses every admin call.
    /// </summary>
    public string AdminKey { get; set; } = "";

    /// <summary>The built dashboard; unset means the repository's <c>web/dist</c> when it exists.</summary>
    public string? DashboardPath { get; set; }

    public EdgeCorsOptions Cors { get; set; } = new();

    public EdgeRateLimitOptions RateLimit { get; set; } = new();

    public EdgeApiKeyOptions ApiKeys { get; set; } = new();

    public EdgeFailedAuthenticationOptions FailedAuthentication { get; set; } = new();

    /// <summary>How long <c>/health/ready</c> answers from its last round of checks.</summary>
    public TimeSpan ReadinessCacheDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the edge waits for a service's response headers on a route that sets no <c>Timeout</c> of its own
    /// (<c>ReverseProxy:Routes:{id}:Timeout</c>): plain reads and writes answer in well under a second, so a service
    /// silent for this long is stalled. Routes whose reply waits on an AI provider set a longer one.
    /// </summary>
    public TimeSpan ResponseHeadersTimeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// How many wrong keys (API or admin) one client address may send: a burst of <see cref="TokenLimit"/>, then
/// <see cref="TokensPerPeriod"/> per period; beyond it, 429 without a look at the key.
/// </summary>
public sealed class EdgeFailedAuthenticationOptions
{
    public int TokenLimit { get; set; } = 50;

    public int TokensPerPeriod { get; set; } = 10;

    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class EdgeCorsOptions
{
    public string[] Origins { get; set; } = [];
}

/// <summary>One token bucket per tenant (per client IP for the admin route).</summary>
public sealed class EdgeRateLimitOptions
{
    public int TokenLimit { get; set; } = 200;

    public int TokensPerPeriod { get; set; } = 100;

    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class EdgeApiKeyOptions
{
    /// <summary>How long a verified key is trusted without asking tenancy again; revocations evict sooner.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a verification is used once the edge cannot show that revocations reach it (broker down, or a link gone
    /// silent), counted from the later of the verification and the last probe heard back. Under the 2 s the API
    /// promises for revocations, with room for requests in flight.
    /// </summary>
    public TimeSpan TrustWhileDisconnected { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the edge sends itself a probe through its revocation queue; well under <see cref="TrustWhileDisconnected"/>.</summary>
    public TimeSpan ConnectionProbeInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long an unknown key is remembered, so a flood of bad keys does not reach tenancy.</summary>
    public TimeSpan NegativeCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At most one <c>ApiKeyUsed</c> per key per interval.</summary>
    public TimeSpan UsageInterval { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan VerifyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public int CacheSizeLimit { get; set; } = 100_000;
}
