using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using StitchFin.Gateway.Http;

namespace StitchFin.Gateway.Authentication;

/// <summary>
/// A budget of failed authentications (unknown or revoked API keys, wrong admin keys) per client address: each
/// failure spends a token, and an address with none left is answered 429 before its key is even looked at, so a
/// flood of guessed keys neither reaches tenancy nor fills the key cache. Successful calls spend nothing.
/// </summary>
public sealed class FailedAuthenticationLimiter : IDisposable
{
    private static readonly object Limited = new();
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeSpan _period;

    public FailedAuthenticationLimiter(IOptions<EdgeOptions> options)
    {
        var settings = options.Value.FailedAuthentication;
        _period = settings.ReplenishmentPeriod;
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = settings.TokenLimit,
            TokensPerPeriod = settings.TokensPerPeriod,
            ReplenishmentPeriod = settings.ReplenishmentPeriod,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => bucket));
    }

    /// <summary>Whether this client has failures left to spend; when not, the challenge answers 429.</summary>
    public bool MayTry(HttpContext context)
    {
        using var probe = _limiter.AttemptAcquire(Address(context), 0);
        if (probe.IsAcquired)
        {
            return true;
        }

        context.Items[Limited] = true;
        return false;
    }

    /// <summary>Whether <see cref="MayTry"/> refused this request.</summary>
    public bool IsLimited(HttpContext context) => context.Items.ContainsKey(Limited);

    public void Failed(HttpContext context) => _limiter.AttemptAcquire(Address(context), 1).Dispose();

    /// <summary>Writes the 429 when <see cref="MayTry"/> refused this request; false when it did not.</summary>
    public async Task<bool> TryWriteLimitedAsync(HttpContext context)
    {
        if (!context.Items.ContainsKey(Limited))
        {
            return false;
        }

        var seconds = Math.Max(1, (long)Math.Ceiling(_period.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await EdgeProblems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many failed authentications",
            $"Too many requests from this address carried a wrong key; retry after {seconds} seconds.");
        return true;
    }

    public void Dispose() => _limiter.Dispose();

    private static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
