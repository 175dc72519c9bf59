using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace StitchFin.Gateway.ApiKeys;

/// <summary>
/// The edge's verified-key cache. Entries are keyed by the SHA-256 of the key (never the plaintext); concurrent
/// misses for one key share a single tenancy call; a revocation evicts through a key id index and is remembered
/// long enough that a verification already in flight cannot put the revoked key back. Unknown keys are remembered in
/// a cache of their own, so a flood of them can never push a verified key out. A verified key goes back to tenancy
/// sooner when the edge cannot show that it hears revocations (see <see cref="RevocationFeed"/>).
/// </summary>
public sealed class ApiKeyVerifier : IDisposable
{
    private readonly MemoryCache _cache;
    private readonly MemoryCache _unknown;
    private readonly ConcurrentDictionary<string, Lazy<Task<VerifiedKey?>>> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, string> _cacheKeyByKeyId = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _revokedUntil = new();
    private readonly TenancyKeyClient _tenancy;
    private readonly RevocationFeed _revocations;
    private readonly TimeProvider _time;
    private readonly EdgeApiKeyOptions _options;
    private readonly PostEvictionDelegate _onEvicted;

    public ApiKeyVerifier(TenancyKeyClient tenancy, RevocationFeed revocations, TimeProvider time, IOptions<EdgeOptions> options)
    {
        _tenancy = tenancy;
        _revocations = revocations;
        _time = time;
        _options = options.Value.ApiKeys;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.CacheSizeLimit });
        _unknown = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.CacheSizeLimit });
        _onEvicted = OnEvicted;
    }

    public ValueTask<VerifiedKey?> VerifyAsync(string apiKey, string requestId, CancellationToken cancellationToken)
    {
        var cacheKey = CacheKeyOf(apiKey);
        if (_cache.TryGetValue(cacheKey, out CachedVerification? cached) && IsTrusted(cached))
        {
            if (!IsRevoked(cached.Key))
            {
                return ValueTask.FromResult(cached.Key);
            }

            _cache.Remove(cacheKey);
            return ValueTask.FromResult<VerifiedKey?>(null);
        }

        if (_unknown.TryGetValue(cacheKey, out CachedVerification? unknown) && unknown!.ExpiresAt > _time.GetUtcNow())
        {
            return ValueTask.FromResult<VerifiedKey?>(null);
        }

        return new ValueTask<VerifiedKey?>(VerifyMissAsync(cacheKey, apiKey, requestId, cancellationToken));
    }

    /// <summary>The key when it is verified and cached (no call to tenancy), for a client whose wrong keys are limited.</summary>
    public VerifiedKey? Cached(string apiKey) =>
        _cache.TryGetValue(CacheKeyOf(apiKey), out CachedVerification? cached) && IsTrusted(cached) && !IsRevoked(cached.Key)
            ? cached.Key
            : null;

    /// <summary>Forgets a revoked key now, and refuses it for a while whatever a late verification says.</summary>
    public void Evict(Guid keyId)
    {
        var now = _time.GetUtcNow();
        _revokedUntil[keyId] = now + _options.CacheDuration + _options.CacheDuration + _options.VerifyTimeout;
        if (_cacheKeyByKeyId.TryRemove(keyId, out var cacheKey))
        {
            _cache.Remove(cacheKey);
        }

        foreach (var (revokedKeyId, until) in _revokedUntil)
        {
            if (until <= now)
            {
                _revokedUntil.TryRemove(KeyValuePair.Create(revokedKeyId, until));
            }
        }
    }

    /// <summary>Drops every entry, for when revocations may have been missed (the bus reconnected).</summary>
    public void Clear()
    {
        _cache.Clear();
        _unknown.Clear();
        _cacheKeyByKeyId.Clear();
    }

    public void Dispose()
    {
        _cache.Dispose();
        _unknown.Dispose();
    }

    private async Task<VerifiedKey?> VerifyMissAsync(string cacheKey, string apiKey, string requestId, CancellationToken cancellationToken)
    {
        var verification = _inFlight.GetOrAdd(
            cacheKey,
            static (key, state) => new Lazy<Task<VerifiedKey?>>(() => state.Verifier.FetchAsync(key, state.ApiKey, state.RequestId)),
            (Verifier: this, ApiKey: apiKey, RequestId: requestId));
        // The shared call is not cancelled by one waiter leaving; the HTTP client's timeout bounds it.
        return await verification.Value.WaitAsync(cancellationToken);
    }

    private async Task<VerifiedKey?> FetchAsync(string cacheKey, string apiKey, string requestId)
    {
        try
        {
            // Tenancy's answer may miss a revocation made while it is on its way, not one made before the question.
            var askedAt = _time.GetUtcNow();
            var key = await _tenancy.VerifyAsync(apiKey, requestId, CancellationToken.None);
            if (IsRevoked(key))
            {
                key = null;
            }

            Store(cacheKey, key, askedAt);
            // A revocation that arrived between the check above and the store did not find the entry to evict.
            if (IsRevoked(key))
            {
                _cache.Remove(cacheKey);
                return null;
            }

            return key;
        }
        finally
        {
            _inFlight.TryRemove(cacheKey, out _);
        }
    }

    private void Store(string cacheKey, VerifiedKey? key, DateTimeOffset verifiedAt)
    {
        var lifetime = key is null ? _options.NegativeCacheDuration : _options.CacheDuration;
        using var entry = (key is null ? _unknown : _cache).CreateEntry(cacheKey);
        entry.Value = new CachedVerification(key, verifiedAt, _time.GetUtcNow() + lifetime);
        entry.AbsoluteExpirationRelativeToNow = lifetime;
        entry.Size = 1;
        if (key is not null)
        {
            _cacheKeyByKeyId[key.KeyId] = cacheKey;
            entry.RegisterPostEvictionCallback(_onEvicted, key.KeyId);
        }
    }

    private void OnEvicted(object key, object? value, EvictionReason reason, object? state)
    {
        // A replaced entry is the same key re-verified: the index still points at the right cache key.
        if (reason != EvictionReason.Replaced && state is Guid keyId && key is string cacheKey)
        {
            _cacheKeyByKeyId.TryRemove(KeyValuePair.Create(keyId, cacheKey));
        }
    }

    private bool IsTrusted([NotNullWhen(true)] CachedVerification? cached)
    {
        var now = _time.GetUtcNow();
        return cached is not null && cached.ExpiresAt > now && _revocations.MayTrust(cached.VerifiedAt, now);
    }

    private bool IsRevoked(VerifiedKey? key) => key is not null && !_revokedUntil.IsEmpty && _revokedUntil.ContainsKey(key.KeyId);

    internal static string CacheKeyOf(string apiKey)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(apiKey.Length);
        Span<byte> buffer = maxBytes <= 2048 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        var written = Encoding.UTF8.GetBytes(apiKey, buffer);
        SHA256.HashData(buffer[..written], hash);
        CryptographicOperations.ZeroMemory(buffer[..written]);
        return Convert.ToHexString(hash);
    }

    private sealed record CachedVerification(VerifiedKey? Key, DateTimeOffset VerifiedAt, DateTimeOffset ExpiresAt);
}
