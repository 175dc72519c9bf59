using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace StitchFin.ServiceDefaults.Identity;

/// <summary>Who the edge says is calling: a tenant, the admin (tenant creation) or a service (the edge itself).</summary>
public enum IdentityKind
{
    Tenant,
    Admin,
    Service,
}

public sealed record InternalIdentity(IdentityKind Kind, Guid TenantId, string RequestId, DateTimeOffset IssuedAt);

public sealed class InternalIdentityOptions
{
    public const string SectionName = "Identity";

    /// <summary>Shared secret between the edge and the internal services; at least 32 characters.</summary>
    public string SigningKey { get; set; } = "";

    /// <summary>How old a signature may be. Each hop signs afresh, so this only has to cover one call.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Signs and verifies the identity header the edge forwards:
/// <c>v1.{t|a|s}.{tenantId:N}.{requestId}.{unixMilliseconds}.{base64url(HMAC-SHA256(payload))}</c>.
/// </summary>
public sealed class InternalIdentitySigner
{
    public const string HeaderName = "X-StitchFin-Identity";
    private const string Version = "v1";
    private const int MaxRequestIdLength = 64;

    private readonly byte[] _key;
    private readonly InternalIdentityOptions _options;
    private readonly TimeProvider _time;

    public InternalIdentitySigner(IOptions<InternalIdentityOptions> options, TimeProvider time)
    {
        _options = options.Value;
        if (string.IsNullOrEmpty(_options.SigningKey) || _options.SigningKey.Length < 32)
        {
            throw new InvalidOperationException("Identity:SigningKey must be set to a secret of at least 32 characters.");
        }

        _key = Encoding.UTF8.GetBytes(_options.SigningKey);
        _time = time;
    }

    public string Sign(IdentityKind kind, Guid tenantId, string requestId)
    {
        var payload = string.Create(CultureInfo.InvariantCulture,
            $"{Version}.{KindCode(kind)}.{tenantId:N}.{SafeRequestId(requestId)}.{_time.GetUtcNow().ToUnixTimeMilliseconds()}");
        return $"{payload}.{Signature(payload)}";
    }

    public bool TryVerify(string? header, out InternalIdentity? identity, out string failure)
    {
        identity = null;
        if (string.IsNullOrEmpty(header))
        {
            failure = "missing identity";
            return false;
        }

        var lastDot = header.LastIndexOf('.');
        if (lastDot <= 0 || header.Length > 256)
        {
            failure = "malformed identity";
            return false;
        }

        var payload = header.AsSpan(0, lastDot);
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(payload.ToString()), expected);
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes + 2];
        if (Base64Url.DecodeFromChars(header.AsSpan(lastDot + 1), given, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != HMACSHA256.HashSizeInBytes
            || !CryptographicOperations.FixedTimeEquals(expected, given[..written]))
        {
            failure = "bad signature";
            return false;
        }

        var parts = payload.ToString().Split('.');
        if (parts.Length != 5 || parts[0] != Version || ParseKind(parts[1]) is not { } kind
            || !Guid.TryParseExact(parts[2], "N", out var tenantId)
            || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var unixMs))
        {
            failure = "malformed identity";
            return false;
        }

        var issuedAt = DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
        var now = _time.GetUtcNow();
        if (issuedAt > now + _options.ClockSkew || now - issuedAt > _options.MaxAge)
        {
            failure = "stale identity";
            return false;
        }

        identity = new InternalIdentity(kind, tenantId, parts[3], issuedAt);
        failure = "";
        return true;
    }

    /// <summary>Request ids travel inside the signed payload, so only a plain, bounded alphabet is kept.</summary>
    public static string SafeRequestId(string? requestId) =>
        !string.IsNullOrEmpty(requestId) && requestId.Length <= MaxRequestIdLength
            && requestId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':')
            ? requestId
            : Guid.NewGuid().ToString("N");

    private string Signature(string payload) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(payload)));

    private static char KindCode(IdentityKind kind) => kind switch
    {
        IdentityKind.Tenant => 't',
        IdentityKind.Admin => 'a',
        _ => 's',
    };

    private static IdentityKind? ParseKind(string code) => code switch
    {
        "t" => IdentityKind.Tenant,
        "a" => IdentityKind.Admin,
        "s" => IdentityKind.Service,
        _ => null,
    };
}
