using System.Globalization;
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StitchFin.Gateway.Http;

namespace StitchFin.Gateway.Authentication;

/// <summary>
/// A budget of failed authentications (unknown or revoked API keys, wrong admin keys) per client address: each
/// failure spends a token, and an address with none left is answered 429 before its key is even looked at, so a
/// flood of guessed keys neither reaches tenancy nor fills the key cache. Successful calls spend nothing. (The
/// framework's partitioned token bucket was tried first; its shared replenishment made a limited address's next
/// request pass now and then.)
/// </summary>
public sealed class FailedAuthenticationLimiter(IOptions<EdgeOptions> options, TimeProvider time)
{
    /// <summary>Beyond this many addresses, those whose budget is whole again are forgotten.</summary>
    private const int PruneAbove = 100_000;

    private static readonly object Limited = new();
    private readonly EdgeFailedAuthenticationOptions _settings = options.Value.FailedAuthentication;
    private readonly ConcurrentDictionary<string, Budget> _budgets = new(StringComparer.Ordinal);

    /// <summary>Whether this client has failures left to spend; when not, the challenge answers 429.</summary>
    public bool MayTry(HttpContext context)
    {
        if (!_budgets.TryGetValue(Address(context), out var budget) || budget.Left(_settings, time.GetTimestamp(), time) >= 1)
        {
            return true;
        }

        context.Items[Limited] = true;
        return false;
    }

    /// <summary>Whether <see cref="MayTry"/> refused this request.</summary>
    public bool IsLimited(HttpContext context) => context.Items.ContainsKey(Limited);

    public void Failed(HttpContext context)
    {
        if (_budgets.Count > PruneAbove)
        {
            var now = time.GetTimestamp();
            foreach (var (address, whole) in _budgets)
            {
                if (whole.Left(_settings, now, time) >= _settings.TokenLimit)
                {
                    _budgets.TryRemove(address, out _);
                }
            }
        }

        _budgets.GetOrAdd(Address(context), _ => new Budget(_settings.TokenLimit, time.GetTimestamp())).Spend(_settings, time.GetTimestamp(), time);
    }

    /// <summary>Writes the 429 when <see cref="MayTry"/> refused this request; false when it did not.</summary>
    public async Task<bool> TryWriteLimitedAsync(HttpContext context)
    {
        if (!context.Items.ContainsKey(Limited))
        {
            return false;
        }

        var seconds = Math.Max(1, (long)Math.Ceiling(_settings.ReplenishmentPeriod.TotalSeconds / Math.Max(1, _settings.TokensPerPeriod)));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await EdgeProblems.WriteAsync(context, StatusCodes.Status429TooManyRequests, "Too many failed authentications",
            $"Too many requests from this address carried a wrong key; retry after {seconds} seconds.");
        return true;
    }

    private static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>A token bucket refilled by the time that passed whenever it is read: no timers, and exact on a fake clock.</summary>
    private sealed class Budget(double tokens, long updatedAt)
    {
        private readonly Lock _lock = new();

        public double Left(EdgeFailedAuthenticationOptions settings, long now, TimeProvider time)
        {
            lock (_lock)
            {
                Refill(settings, now, time);
                return tokens;
            }
        }

        public void Spend(EdgeFailedAuthenticationOptions settings, long now, TimeProvider time)
        {
            lock (_lock)
            {
                Refill(settings, now, time);
                tokens = Math.Max(0, tokens - 1);
            }
        }

        private void Refill(EdgeFailedAuthenticationOptions settings, long now, TimeProvider time)
        {
            var periods = time.GetElapsedTime(updatedAt, now) / settings.ReplenishmentPeriod;
            tokens = Math.Min(settings.TokenLimit, tokens + periods * settings.TokensPerPeriod);
            updatedAt = now;
        }
    }
}
