namespace StitchFin.Contracts.Conversation;

/// <summary>
/// Body of conversation's internal <c>POST /internal/sessions/{sessionId}/messages</c> (with an
/// <c>Idempotency-Key</c> header), used by voice. Same answers as the public message endpoint. When
/// <see cref="RequestFingerprint"/> is set (voice: SHA-256 hex of the audio), it replaces the body hash in the
/// "same key, same request" comparison.
/// </summary>
public sealed record InternalMessageRequest(string Content, string Channel, string? RequestFingerprint);
