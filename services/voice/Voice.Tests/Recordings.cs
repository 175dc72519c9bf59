using System.Security.Cryptography;
using NAudio.Wave;
using StitchFin.Testing;

namespace StitchFin.Voice.Tests;

/// <summary>Uploads for the tests: good WAVs, and every way a recording can be wrong.</summary>
public static class Recordings
{
    public static byte[] Sine(double seconds) => Wav.Sine(TimeSpan.FromSeconds(seconds));

    public static string Fingerprint(byte[] audio) => Convert.ToHexStringLower(SHA256.HashData(audio));

    /// <summary>An ID3 tag and MPEG-1 Layer III frame headers: what an .mp3 upload starts with.</summary>
    public static byte[] Mp3()
    {
        var bytes = new byte[4096];
        "ID3"u8.CopyTo(bytes);
        bytes[3] = 4;
        for (var frame = 10; frame + 4 < bytes.Length; frame += 417)
        {
            bytes[frame] = 0xFF;
            bytes[frame + 1] = 0xFB;
            bytes[frame + 2] = 0x90;
            bytes[frame + 3] = 0x64;
        }

        return bytes;
    }

    public static byte[] RandomBytes(int length, int seed = 42)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A 1 s WAV cut in half: the header still declares the full data chunk.</summary>
    public static byte[] Truncated()
    {
        var whole = Sine(1);
        return whole[..(whole.Length / 2)];
    }

    public static byte[] IeeeFloat(double seconds) => Write(WaveFormat.CreateIeeeFloatWaveFormat(16000, 1), seconds);

    public static byte[] Stereo(double seconds) => Write(new WaveFormat(16000, 16, 2), seconds);

    private static byte[] Write(WaveFormat format, double seconds)
    {
        using var stream = new MemoryStream();
        using (var writer = new WaveFileWriter(stream, format))
        {
            var samples = (int)(seconds * format.SampleRate) * format.Channels;
            for (var i = 0; i < samples; i++)
            {
                writer.WriteSample((float)(0.3 * Math.Sin(2 * Math.PI * 440 * i / format.SampleRate)));
            }
        }

        return stream.ToArray();
    }
}
