using System.Buffers.Binary;
using NAudio.Wave;

namespace StitchFin.Voice.Speech;

/// <summary>
/// The stand-in when no speech engine is installed: a 440 Hz beep of <see cref="BeepMilliseconds"/> followed by
/// silence, mono 16-bit PCM at <see cref="SampleRate"/> Hz. Its total length grows with the reply:
/// <c>duration_ms = clamp(500 + 60 * characters, 500, 30000)</c>, characters being Unicode scalar values.
/// </summary>
public sealed class BeepSpeechSynthesizer : ISpeechSynthesizer
{
    public const int SampleRate = 22_050;
    public const int BeepMilliseconds = 250;
    public const int MinimumMilliseconds = 500;
    public const int MillisecondsPerCharacter = 60;
    public const int MaximumMilliseconds = 30_000;
    private const double FrequencyHz = 440;
    private const double Amplitude = 0.3;

    public string Engine => SpeechEngineNames.Beep;

    public static int DurationMilliseconds(string text)
    {
        var characters = text.EnumerateRunes().Count();
        var milliseconds = MinimumMilliseconds + ((long)MillisecondsPerCharacter * characters);
        return (int)Math.Clamp(milliseconds, MinimumMilliseconds, MaximumMilliseconds);
    }

    /// <summary>Exact, because every duration is a multiple of 20 ms and 22050 Hz gives 441 samples per 20 ms.</summary>
    public static int SampleCount(int milliseconds) => (int)((long)SampleRate * milliseconds / 1000);

    public Task<SynthesizedSpeech> SynthesizeAsync(string text, CancellationToken cancellationToken) =>
        Task.FromResult(new SynthesizedSpeech(Render(text), Engine));

    public static byte[] Render(string text)
    {
        var totalSamples = SampleCount(DurationMilliseconds(text));
        var beepSamples = Math.Min(SampleCount(BeepMilliseconds), totalSamples);
        var pcm = new byte[totalSamples * sizeof(short)];
        for (var i = 0; i < beepSamples; i++)
        {
            var sample = Amplitude * Math.Sin(2 * Math.PI * FrequencyHz * i / SampleRate);
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * sizeof(short)), (short)(sample * short.MaxValue));
        }

        // WaveFileWriter leaves a caller-supplied stream open, so the sizes it patches on dispose stay readable.
        using var stream = new MemoryStream(pcm.Length + 64);
        using (var writer = new WaveFileWriter(stream, new WaveFormat(SampleRate, 16, 1)))
        {
            writer.Write(pcm, 0, pcm.Length);
        }

        return stream.ToArray();
    }
}
