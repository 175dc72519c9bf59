namespace StitchFin.Contracts.Tenancy;

/// <summary>Body of tenancy's internal <c>POST /internal/keys/verify</c>, called by the edge on a cache miss.</summary>
public sealed record VerifyApiKeyRequest(string ApiKey);

/// <summary>200 answer for a valid, unrevoked key; an unknown or revoked key answers 404.</summary>
public sealed record VerifiedApiKey(Guid TenantId, Guid KeyId);
