using System.Diagnostics.Metrics;

namespace StitchFin.Tenancy.Keys;

/// <summary>Counters and audit log lines for key life cycle events. Only ids and prefixes appear here, never a key.</summary>
public sealed partial class KeyTelemetry
{
    public const string MeterName = "StitchFin.Tenancy";

    private readonly Counter<long> _issued;
    private readonly Counter<long> _revoked;
    private readonly Counter<long> _verifications;
    private readonly ILogger<KeyTelemetry> _logger;

    public KeyTelemetry(IMeterFactory meters, ILogger<KeyTelemetry> logger)
    {
        var meter = meters.Create(MeterName);
        _issued = meter.CreateCounter<long>("stitchfin.tenancy.keys.issued", "{key}", "API keys issued");
        _revoked = meter.CreateCounter<long>("stitchfin.tenancy.keys.revoked", "{key}", "API keys revoked");
        _verifications = meter.CreateCounter<long>("stitchfin.tenancy.keys.verifications", "{verification}", "Key verifications by outcome");
        _logger = logger;
    }

    public void Issued(Guid tenantId, ApiKey key)
    {
        _issued.Add(1);
        LogIssued(tenantId, key.Id, key.Prefix);
    }

    public void Revoked(Guid tenantId, Guid keyId)
    {
        _revoked.Add(1);
        LogRevoked(tenantId, keyId);
    }

    public void Verified(string outcome) => _verifications.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(Level = LogLevel.Information, Message = "Issued API key {KeyId} ({Prefix}) for tenant {TenantId}")]
    private partial void LogIssued(Guid tenantId, Guid keyId, string prefix);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revoked API key {KeyId} of tenant {TenantId}")]
    private partial void LogRevoked(Guid tenantId, Guid keyId);
}
