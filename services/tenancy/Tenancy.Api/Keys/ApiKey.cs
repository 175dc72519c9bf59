namespace StitchFin.Tenancy.Keys;

/// <summary>A tenant's API key. Only a peppered hash of the key is stored; the plaintext exists once, in the creation response.</summary>
public sealed class ApiKey
{
    public const int MaxNameLength = 100;

    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public required string Name { get; init; }

    /// <summary>The non-secret leading part of the key (<c>sfk_{lookupId}</c>), shown in listings so users can tell keys apart.</summary>
    public required string Prefix { get; init; }

    public required string LookupId { get; init; }

    public required byte[] Hash { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public static ApiKey Issue(Guid tenantId, string name, IssuedApiKey issued, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        TenantId = tenantId,
        Name = name,
        Prefix = issued.Prefix,
        LookupId = issued.LookupId,
        Hash = issued.Hash,
        CreatedAt = now,
    };
}
