using System.Security.Cryptography;
using System.Text;
using StitchFin.Contracts.Conversation;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Messages;

/// <summary>Body of the public POST /sessions/{id}/messages.</summary>
public sealed record MessageRequest(string? Content);

/// <summary>
/// One user message to exchange, from the session API, voice or an agent API. <see cref="Content"/> is what the
/// transcript keeps as the user's message and what the simulated vendors quote; <see cref="Turns"/>, when an API sends
/// a conversation rather than one message, is what the upstream gets (else one user turn of <see cref="Content"/>),
/// with the <see cref="Tools"/> it may call and the generation <see cref="Options"/>.
/// </summary>
public sealed record MessageInput(
    string Content,
    string Channel,
    string? RequestFingerprint,
    IReadOnlyList<ChatTurn>? Turns = null,
    IReadOnlyList<ToolDefinition>? Tools = null,
    GenerationOptions? Options = null)
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
    /// caller supplies a fingerprint (voice: a hash of the audio; the agent APIs: their whole request), the same
    /// session, channel and fingerprint.
    /// </summary>
    public string Hash(Guid sessionId)
    {
        var identity = RequestFingerprint is null
            ? $"{sessionId:N}\n{Channel}\ncontent\n{Content}"
            : $"{sessionId:N}\n{Channel}\nfingerprint\n{RequestFingerprint}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)));
    }
}
