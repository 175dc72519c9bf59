using System.ComponentModel.DataAnnotations;

namespace StitchFin.Voice;

public enum SpeechEngine
{
    /// <summary>espeak-ng when it is on PATH, else the beep.</summary>
    Auto,
    Espeak,
    Beep,
}

/// <summary>The <c>Voice</c> configuration section.</summary>
public sealed class VoiceOptions
{
    public const string SectionName = "Voice";

    /// <summary>Audio shorter than this is heard as silence: the mock speech-to-text answers "Please say something."</summary>
    [Range(0.0, 60.0)]
    public double MinimumSpeechSeconds { get; set; } = 0.5;

    public SpeechEngine SpeechEngine { get; set; } = SpeechEngine.Auto;

    /// <summary>The espeak-ng executable: a name looked up on PATH, or a full path.</summary>
    [Required]
    public string EspeakCommand { get; set; } = "espeak-ng";

    [Required]
    public string EspeakVoice { get; set; } = "en";

    /// <summary>espeak-ng is killed after this long and the reply is answered with the beep instead.</summary>
    [Range(1, 120)]
    public int SpeechTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Speech covers at most this many characters of the reply (the headers and JSON still carry all of it), which
    /// bounds both the command line and the audio's length.
    /// </summary>
    [Range(1, 20_000)]
    public int MaxSpokenCharacters { get; set; } = 1_000;

    [Range(1, 300)]
    public int ConversationTimeoutSeconds { get; set; } = 30;
}
