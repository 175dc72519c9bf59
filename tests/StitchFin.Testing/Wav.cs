using NAudio.Wave;

namespace StitchFin.Testing;

public static class Wav
{
    /// <summary>A 440 Hz mono 16-bit PCM WAV of the given length.</summary>
    public static byte[] Sine(TimeSpan duration, int sampleRate = 16000)
    {
        using var stream = new MemoryStream();
        using (var writer = new WaveFileWriter(stream, new WaveFormat(sampleRate, 16, 1)))
        {
            var samples = (int)(duration.TotalSeconds * sampleRate);
            for (var i = 0; i < samples; i++)
            {
                writer.WriteSample((float)(0.3 * Math.Sin(2 * Math.PI * 440 * i / sampleRate)));
            }
        }

        return stream.ToArray();
    }
}
