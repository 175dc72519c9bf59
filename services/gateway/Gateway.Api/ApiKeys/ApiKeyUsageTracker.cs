using System.Collections.Concurrent;

namespace StitchFin.Gateway.ApiKeys;

/// <summary>The last use of each key since the previous report; recording a use is one dictionary write.</summary>
public sealed class ApiKeyUsageTracker(TimeProvider time)
{
    private readonly ConcurrentDictionary<Guid, KeyUse> _pending = new();

    public void RecordUse(Guid tenantId, Guid keyId) => _pending[keyId] = new KeyUse(tenantId, keyId, time.GetUtcNow());

    /// <summary>Takes every pending use; a use recorded meanwhile waits for the next report.</summary>
    public List<KeyUse> Drain()
    {
        var uses = new List<KeyUse>(_pending.Count);
        foreach (var keyId in _pending.Keys)
        {
            if (_pending.TryRemove(keyId, out var use))
            {
                uses.Add(use);
            }
        }

        return uses;
    }

    /// <summary>Puts back a use that could not be reported, unless a newer one was recorded since.</summary>
    public void Restore(KeyUse use) => _pending.AddOrUpdate(use.KeyId, use, (_, newer) => newer.LastUsedAt >= use.LastUsedAt ? newer : use);

    public readonly record struct KeyUse(Guid TenantId, Guid KeyId, DateTimeOffset LastUsedAt);
}
