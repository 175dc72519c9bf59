using System.Diagnostics;

namespace StitchFin.Voice;

/// <summary>Spans for each stage of a voice turn: parse, stt, conversation, tts (exported by the service defaults).</summary>
public static class VoiceTelemetry
{
    public const string SourceName = "StitchFin.Voice";

    public static readonly ActivitySource Source = new(SourceName);
}
