using StitchFin.Contracts.Conversation;

namespace StitchFin.Voice.Turns;

/// <summary>The JSON answer (<c>Accept: application/json</c>) of <c>POST /sessions/{id}/voice</c>.</summary>
public sealed record VoiceTurnResponse(
    string Transcript,
    TranscriptMessage Reply,
    MessageUsage Usage,
    string AudioBase64,
    string AudioContentType);
