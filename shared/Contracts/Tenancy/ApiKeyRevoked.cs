namespace StitchFin.Contracts.Tenancy;

/// <summary>A key was revoked; every edge instance evicts it from its verified-key cache.</summary>
public sealed record ApiKeyRevoked(Guid EventId, Guid TenantId, Guid KeyId, DateTimeOffset OccurredAt);
