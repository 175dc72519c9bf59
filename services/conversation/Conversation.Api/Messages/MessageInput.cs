using System.Security.Cryptography;
using System.Text;
using StitchFin.Contracts.Conversation;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Messages;

/// <summary>Body of the public POST /sessions/{id}/messages.</summary>
public sealed record MessageRequest(string? Content);

/// <summary>One user message to exchange, from either the public or the internal endpoint.</summary>
public sealed record MessageInput(string Content, string Channel, string? RequestFingerprint)
{
    public const int MaxContentLength = 16000;
    public const int MaxFingerprintLength = 128;

    private static readonly string[] KnownChannels = [Channels.Text, Channels.Voice, Channels.Api];

    public static Dictionary<string, string[]> Validate(string? content, string? channel, string? requestFingerprint)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(content))
        {
            errors["content"] = ["content is required."];
        }
        else if (content.Length > MaxContentLength)
        {
            errors["content"] = [$"content must be at most {MaxContentLength} characters."];
        }
        else if (TextRules.Problem(content, multiline: true) is { } problem)
        {
            errors["content"] = [$"content {problem}."];
        }

        if (channel is null || !KnownChannels.Contains(channel))
        {
            errors["channel"] = [$"channel must be one of {string.Join(", ", KnownChannels.Select(c => $"\"{c}\""))}."];
        }

        if (requestFingerprint is { Length: 0 or > MaxFingerprintLength })
        {
            errors["requestFingerprint"] = [$"requestFingerprint must be null or 1 to {MaxFingerprintLength} characters."];
        }

        return errors;
    }

    /// <summary>
    /// What "the same request" means for an idempotency key: the same session, channel and content, or, when the
    /// caller supplies a fingerprint (voice: a hash of the audio), the same session, channel and fingerprint.
    /// </summary>
    public string Hash(Guid sessionId)
    {
        var identity = RequestFingerprint is null
            ? $"{sessionId:N}\n{Channel}\ncontent\n{Content}"
            : $"{sessionId:N}\n{Channel}\nfingerprint\n{RequestFingerprint}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
    }
}
