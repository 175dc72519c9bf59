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
/// transcript keeps as the user's message; <see cref="Turns"/>, when an API sends a conversation rather than one
/// message, is what the upstream gets (else one user turn of <see cref="Content"/>), with the <see cref="Tools"/> it may
/// call and the generation <see cref="Options"/>. <see cref="PromptText"/> is the whole conversation as one text (what
/// the simulated vendors quote and count) when it holds more than <see cref="Content"/> (a continued response);
/// <see cref="InputTurns"/> are this exchange's own turns, kept with the user message so a later response can continue
/// from it; <see cref="Response"/> is the Responses API's row to keep with the exchange.
/// </summary>
public sealed record MessageInput(
    string Content,
    string Channel,
    string? RequestFingerprint,
    IReadOnlyList<ChatTurn>? Turns = null,
    IReadOnlyList<ToolDefinition>? Tools = null,
    GenerationOptions? Options = null)
{
    public string? PromptText { get; init; }

    public IReadOnlyList<ChatTurn>? InputTurns { get; init; }

    public ResponseRecord? Response { get; init; }

    public const int MaxContentLength = 16000;

    /// <summary>The longest conversation (a chain of responses and its new input) an agent API may send on as one text.</summary>
    public const int MaxConversationLength = 400_000;
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
    /// What is wrong, if anything, with a conversation an agent API sends on as one text (chat completions, responses,
    /// Anthropic messages): none at all, more than <see cref="MaxConversationLength"/> characters, or characters the
    /// transcript refuses. The session API's single message keeps the tighter <see cref="MaxContentLength"/>.
    /// </summary>
    /// <returns>The problem as the end of a sentence that begins with the conversation, and an OpenAI error code.</returns>
    public static (string Problem, string Code)? ConversationProblem(string conversation) =>
        conversation.Length == 0 ? ("holds no text", "invalid_value")
        : conversation.Length > MaxConversationLength
            ? ($"holds {conversation.Length} characters; at most {MaxConversationLength} are accepted", "context_length_exceeded")
        : TextRules.Problem(conversation, multiline: true) is { } problem ? (problem, "invalid_value")
        : null;

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

/// <summary>What the Responses API keeps of a stored response beside its exchange (see <c>StoredResponse</c>).</summary>
public sealed record ResponseRecord(Guid? PreviousResponseId, string Request, string InputItems);
