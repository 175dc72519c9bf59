namespace StitchFin.Conversation.Idempotency;

/// <summary>
/// One tenant's use of one <c>Idempotency-Key</c>. The primary key (tenant_id, key) is what makes a claim
/// exclusive: a claim is an <c>INSERT ... ON CONFLICT DO NOTHING</c>, never a read followed by a write.
/// </summary>
public sealed class IdempotencyRecord
{
    public const string InFlight = "in_flight";
    public const string Completed = "completed";

    public Guid TenantId { get; init; }
    public required string Key { get; init; }

    /// <summary>SHA-256 (hex) of what makes two requests "the same": session, channel and body (or its fingerprint).</summary>
    public required string RequestHash { get; set; }

    public required string State { get; set; }

    /// <summary>Which claim holds the key, so a claim that was taken over cannot complete or release it.</summary>
    public Guid ClaimToken { get; set; }

    /// <summary>Until then an in-flight claim is honoured; afterwards another request may take it over.</summary>
    public DateTimeOffset LeaseExpiresAt { get; set; }

    /// <summary>When the cleanup may delete the record (at least 24 hours after it was claimed or completed).</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public int? ResponseStatus { get; set; }

    /// <summary>The serialized response exactly as first sent, so a replay is byte-identical.</summary>
    public byte[]? ResponseBody { get; set; }
}
