namespace StitchFin.Voice.Speech;

/// <summary>A mono PCM WAV of the reply, and which engine actually produced it.</summary>
public sealed record SynthesizedSpeech(byte[] Wav, string Engine);

/// <summary>Text-to-speech for the assistant's reply.</summary>
public interface ISpeechSynthesizer
{
    string Engine { get; }

    Task<SynthesizedSpeech> SynthesizeAsync(string text, CancellationToken cancellationToken);
}

public static class SpeechEngineNames
{
    public const string Espeak = "espeak";
    public const string Beep = "beep";
}
