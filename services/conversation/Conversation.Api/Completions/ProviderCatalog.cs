using System.Net.Http.Json;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Completions;

/// <summary>
/// The providers service's catalogue (<c>GET /providers</c>), asked when an agent is written and kept for a short
/// while: providers change only when that service restarts with new configuration, and the message path never reads it.
/// </summary>
public sealed class ProviderCatalog(IHttpClientFactory clients, TimeProvider time)
{
    public const string HttpClientName = "providers-catalog";
    public static readonly TimeSpan CacheDuration = TimeSpan.FromSeconds(30);

    private Cached? _cached;

    /// <returns>The configured providers, or null when the providers service cannot be asked right now.</returns>
    public async Task<IReadOnlyList<ProviderInfo>?> GetAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (Volatile.Read(ref _cached) is { } cached && cached.Expires > now)
        {
            return cached.Providers;
        }

        try
        {
            var providers = await clients.CreateClient(HttpClientName).GetFromJsonAsync<ProviderInfo[]>("providers", JsonDefaults.JsonOptions, cancellationToken);
            if (providers is null)
            {
                return null;
            }

            Volatile.Write(ref _cached, new Cached(providers, now + CacheDuration));
            return providers;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private sealed record Cached(IReadOnlyList<ProviderInfo> Providers, DateTimeOffset Expires);
}
