using System.Security.Cryptography;
using System.Text.Json;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Conversation.Translation;

/// <summary>
/// What "the same request" means for an agent API's <c>Idempotency-Key</c>: a SHA-256 (hex) of the JSON of
/// everything in the request that reaches the agent (never <c>stream</c>). Two requests are the same exactly when
/// their canonical values serialize alike.
/// </summary>
public static class RequestFingerprint
{
    public static string Of<T>(T canonical) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(canonical, JsonDefaults.JsonOptions)));
}
