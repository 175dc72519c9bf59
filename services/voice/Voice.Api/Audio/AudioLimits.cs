namespace StitchFin.Voice.Audio;

/// <summary>What API.md allows for an uploaded recording.</summary>
public static class AudioLimits
{
    public const long MaxAudioBytes = 10 * 1024 * 1024;

    /// <summary>The whole request may exceed the audio limit by the multipart framing, so the service answers 413 itself.</summary>
    public const long MaxRequestBytes = MaxAudioBytes + (512 * 1024);

    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(60);
}
