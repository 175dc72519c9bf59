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

public sealed record InternalIdentity(IdentityKind Kind, Guid TenantId, string RequestId, DateTimeOffset IssuedAt, string Issuer);

/// <summary>The name this service is known by to the others: who it signs as, and the audience it accepts.</summary>
public sealed record ServiceName(string Value);

/// <summary>The one call an identity is signed for: the receiving service, the method and the path.</summary>
public sealed record InternalCall(string Audience, string Method, string Path)
{
    /// <summary>The call <paramref name="request"/> makes to <paramref name="audience"/> (its absolute URI's path).</summary>
    public static InternalCall For(string audience, HttpRequestMessage request) =>
        new(audience, request.Method.Method, Uri.UnescapeDataString(request.RequestUri!.AbsolutePath));
}

/// <summary>Why an identity was refused: an expired one only waited too long (a retry may pass), the others never will.</summary>
public enum IdentityFailure
{
    None,
    Missing,
    Malformed,
    BadSignature,
    Expired,

    /// <summary>A tenant or admin identity signed by a sibling service: only the edge may speak for tenants and admins.</summary>
    NotFromEdge,
}

public sealed class InternalIdentityOptions
{
    public const string SectionName = "Identity";

    /// <summary>
    /// The key of each call this service signs or accepts, by issuer and audience (<c>Identity:Keys:gateway:tenancy</c>
    /// is the edge's key for tenancy): a service holds only its own, so it can neither mint a tenant identity nor sign
    /// as another service. Each at least 32 characters.
    /// </summary>
    public Dictionary<string, Dictionary<string, string>> Keys { get; set; } = [];

    /// <summary>
    /// The root every key derives from (<see cref="InternalIdentityKeys.Derive"/>) when <see cref="Keys"/> does not name
    /// it. Development and tests (the Testing environment) only: whoever holds it can sign as anyone, so outside Development it is refused and the
    /// operator's tooling (run.sh) derives each service's keys from it instead.
    /// </summary>
    public string SigningKey { get; set; } = "";

    /// <summary>How old a signature may be. Each hop signs afresh, so this only has to cover one call.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Signs and verifies the identity header the edge forwards and services send each other:
/// <c>v2.{t|a|s}.{tenantId:N}.{requestId}.{unixMilliseconds}.{issuer}.{base64url(HMAC-SHA256)}</c>, where the HMAC is
/// keyed by the issuer's key for the receiving service and also covers the call it was signed for (receiving service,
/// method, path), so a header replayed to another service, method or path fails its signature; and it lives
/// <see cref="InternalIdentityOptions.MaxAge"/> (10 s). Tenant and admin identities are accepted only from the edge;
/// a sibling's identity is a service identity (acting for the tenant it names).
/// </summary>
public sealed class InternalIdentitySigner
{
    public const string HeaderName = "X-StitchFin-Identity";

    /// <summary>The edge's service name: the one issuer whose tenant and admin identities are accepted.</summary>
    public const string EdgeIssuer = "gateway";

    private const string Version = "v2";
    private const int MaxRequestIdLength = 64;

    private readonly InternalIdentityKeys _keys;
    private readonly InternalIdentityOptions _options;
    private readonly TimeProvider _time;
    private readonly string _issuer;

    public InternalIdentitySigner(IOptions<InternalIdentityOptions> options, TimeProvider time, ServiceName self)
    {
        _options = options.Value;
        _keys = new InternalIdentityKeys(_options);
        _time = time;
        _issuer = self.Value;
        Audience = self.Value;
    }

    /// <summary>The service this signer verifies identities for.</summary>
    public string Audience { get; }

    /// <exception cref="InvalidOperationException">This service holds no key for calls to <paramref name="call"/>'s audience.</exception>
    public string Sign(IdentityKind kind, Guid tenantId, string requestId, InternalCall call)
    {
        var key = _keys.Find(_issuer, call.Audience)
            ?? throw new InvalidOperationException($"No identity key for calls from {_issuer} to {call.Audience} ({InternalIdentityKeys.Setting(_issuer, call.Audience)}).");
        var payload = string.Create(CultureInfo.InvariantCulture,
            $"{Version}.{KindCode(kind)}.{tenantId:N}.{SafeRequestId(requestId)}.{_time.GetUtcNow().ToUnixTimeMilliseconds()}.{_issuer}");
        return $"{payload}.{Base64Url.EncodeToString(SignatureBytes(key, payload, call))}";
    }

    /// <summary>Verifies an identity sent to this service for <paramref name="method"/> <paramref name="path"/>.</summary>
    public bool TryVerify(string? header, string method, string path, out InternalIdentity? identity, out IdentityFailure failure) =>
        TryVerify(header, new InternalCall(Audience, method, path), out identity, out failure);

    /// <summary>Verifies an identity signed for <paramref name="call"/>.</summary>
    public bool TryVerify(string? header, InternalCall call, out InternalIdentity? identity, out IdentityFailure failure)
    {
        identity = null;
        if (string.IsNullOrEmpty(header))
        {
            failure = IdentityFailure.Missing;
            return false;
        }

        var lastDot = header.LastIndexOf('.');
        if (lastDot <= 0 || header.Length > 256)
        {
            failure = IdentityFailure.Malformed;
            return false;
        }

        var payload = header[..lastDot];
        var issuer = payload[(payload.LastIndexOf('.') + 1)..];
        if (_keys.Find(issuer, call.Audience) is not { } key)
        {
            // An issuer this service holds no key from cannot have signed for it.
            failure = IdentityFailure.BadSignature;
            return false;
        }

        var expected = SignatureBytes(key, payload, call);
        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes + 2];
        if (Base64Url.DecodeFromChars(header.AsSpan(lastDot + 1), given, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != HMACSHA256.HashSizeInBytes
            || !CryptographicOperations.FixedTimeEquals(expected, given[..written]))
        {
            failure = IdentityFailure.BadSignature;
            return false;
        }

        var parts = payload.Split('.');
        if (parts.Length != 6 || parts[0] != Version || ParseKind(parts[1]) is not { } kind
            || !Guid.TryParseExact(parts[2], "N", out var tenantId)
            || !long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var unixMs))
        {
            failure = IdentityFailure.Malformed;
            return false;
        }

        if (kind is not IdentityKind.Service && issuer != EdgeIssuer)
        {
            failure = IdentityFailure.NotFromEdge;
            return false;
        }

        var issuedAt = DateTimeOffset.FromUnixTimeMilliseconds(unixMs);
        var now = _time.GetUtcNow();
        if (issuedAt > now + _options.ClockSkew || now - issuedAt > _options.MaxAge)
        {
            failure = IdentityFailure.Expired;
            return false;
        }

        identity = new InternalIdentity(kind, tenantId, parts[3], issuedAt, parts[5]);
        failure = IdentityFailure.None;
        return true;
    }

    /// <summary>Request ids travel inside the signed payload, so only a plain, bounded alphabet is kept.</summary>
    public static string SafeRequestId(string? requestId) =>
        !string.IsNullOrEmpty(requestId) && requestId.Length <= MaxRequestIdLength
            && requestId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':')
            ? requestId
            : Guid.NewGuid().ToString("N");

    private static byte[] SignatureBytes(byte[] key, string payload, InternalCall call) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{payload}\n{call.Audience}\n{call.Method.ToUpperInvariant()}\n{call.Path}"));

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
