namespace StitchFin.Contracts.Gateway;

/// <summary>
/// The edge saw a key in use. Published at most once per key per interval so tenancy can keep
/// <c>lastUsedAt</c> without a database write on every request.
/// </summary>
public sealed record ApiKeyUsed(Guid EventId, Guid TenantId, Guid KeyId, DateTimeOffset LastUsedAt, DateTimeOffset OccurredAt);
