using Microsoft.Extensions.Options;

namespace StitchFin.Voice.Audio;

/// <summary>
/// The product's mock speech-to-text: it does not listen to the content. Audio shorter than
/// <see cref="VoiceOptions.MinimumSpeechSeconds"/> (0.5 s by default) counts as silence.
/// </summary>
public sealed class MockSpeechToText(IOptions<VoiceOptions> options)
{
    public const string HeardSomething = "User said something via voice.";
    public const string HeardSilence = "Please say something.";

    public string Transcribe(WavInfo audio) =>
        audio.Duration.TotalSeconds < options.Value.MinimumSpeechSeconds ? HeardSilence : HeardSomething;
}
