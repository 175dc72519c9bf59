using System.Buffers.Binary;
using System.Text;
using NAudio.Wave;

namespace StitchFin.Voice.Audio;

/// <summary>A readable PCM WAV: its format and how long it plays.</summary>
public sealed record WavInfo(WaveFormat Format, TimeSpan Duration, long DataBytes);

public sealed record WavInspection(WavInfo? Wav, AudioRejection? Rejection);

/// <summary>
/// Checks a recording with NAudio: anything that is not RIFF/WAVE is an unsupported media type (415); a RIFF/WAVE
/// that NAudio cannot read, that is not PCM, or whose data chunk is shorter than its header says is a bad request (400).
/// </summary>
public static class WavAudio
{
    private const int RiffHeaderBytes = 12;
    private const int ReadBufferBytes = 65_536;

    /// <summary>An uploaded recording: a readable PCM WAV of at most <see cref="AudioLimits.MaxDuration"/>.</summary>
    public static WavInspection Inspect(byte[] audio)
    {
        var inspection = Read(audio);
        if (inspection.Wav is { } wav && wav.Duration > AudioLimits.MaxDuration)
        {
            return Rejected(AudioRejection.Invalid(
                $"The recording lasts {wav.Duration.TotalSeconds:0.###} s; at most {AudioLimits.MaxDuration.TotalSeconds:0} s is accepted."));
        }

        return inspection;
    }

    /// <summary>Any complete PCM WAV, whatever its length (also used to check synthesized speech).</summary>
    public static WavInspection Read(byte[] audio)
    {
        if (!LooksLikeRiffWave(audio))
        {
            return Rejected(AudioRejection.NotWav(
                "The audio is not a WAV file (no RIFF/WAVE header); only PCM WAV is accepted, not MP3 or other formats."));
        }

        if (DeclaredDataShortfall(audio) is { } shortfall)
        {
            return Rejected(AudioRejection.Invalid(shortfall));
        }

        try
        {
            using var stream = new MemoryStream(audio, writable: false);
            using var reader = new WaveFileReader(stream);
            var format = reader.WaveFormat;
            if (!IsPcm(format))
            {
                return Rejected(AudioRejection.Invalid($"The WAV is encoded as {format.Encoding}; only uncompressed PCM is accepted."));
            }

            if (format.Channels < 1 || format.SampleRate < 1 || format.BitsPerSample < 1
                || format.BlockAlign != format.Channels * ((format.BitsPerSample + 7) / 8))
            {
                return Rejected(AudioRejection.Invalid(
                    $"The WAV format is inconsistent ({format.Channels} channels, {format.SampleRate} Hz, block align {format.BlockAlign})."));
            }

            var available = CountReadableBytes(reader);
            if (available < reader.Length)
            {
                return Rejected(AudioRejection.Invalid(
                    $"The WAV is truncated: its data chunk declares {reader.Length} bytes but only {available} are present."));
            }

            // From the samples themselves: a header's declared byte rate could make a long recording look short.
            var duration = TimeSpan.FromSeconds((double)(reader.Length / format.BlockAlign) / format.SampleRate);
            return new WavInspection(new WavInfo(format, duration, reader.Length), null);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or EndOfStreamException or ArgumentException or IOException)
        {
            return Rejected(AudioRejection.Invalid($"The WAV is corrupt and cannot be read: {e.Message}"));
        }
    }

    private static bool LooksLikeRiffWave(ReadOnlySpan<byte> audio)
    {
        if (audio.Length < RiffHeaderBytes)
        {
            // A short prefix of a RIFF header is still a WAV, only truncated: let NAudio say so (400), not 415.
            return audio.Length >= 4 && (audio[..4].SequenceEqual("RIFF"u8) || audio[..4].SequenceEqual("RF64"u8));
        }

        return (audio[..4].SequenceEqual("RIFF"u8) || audio[..4].SequenceEqual("RF64"u8)) && audio[8..12].SequenceEqual("WAVE"u8);
    }

    /// <summary>
    /// Walks the RIFF chunks up to <c>data</c> and compares declared sizes with the bytes present; NAudio quietly
    /// shortens a data chunk that runs past the end of the stream, so a cut-off upload would otherwise pass.
    /// </summary>
    private static string? DeclaredDataShortfall(byte[] audio)
    {
        if (audio.Length < RiffHeaderBytes || audio.AsSpan(0, 4).SequenceEqual("RF64"u8))
        {
            return null; // too short for NAudio anyway; RF64 keeps its real sizes in a ds64 chunk that NAudio reads
        }

        long position = RiffHeaderBytes;
        while (position + 8 <= audio.Length)
        {
            var id = audio.AsSpan((int)position, 4);
            long declared = BinaryPrimitives.ReadUInt32LittleEndian(audio.AsSpan((int)position + 4, 4));
            var present = audio.Length - (position + 8);
            if (declared > present)
            {
                return $"The WAV is truncated: its '{Encoding.ASCII.GetString(id)}' chunk declares {declared} bytes but only {present} are present.";
            }

            if (id.SequenceEqual("data"u8))
            {
                return null;
            }

            position += 8 + declared + (declared & 1);
        }

        return null;
    }

    private static bool IsPcm(WaveFormat format) => format.Encoding switch
    {
        WaveFormatEncoding.Pcm => true,
        WaveFormatEncoding.Extensible => format is WaveFormatExtensible extensible
            && extensible.SubFormat == AudioMediaSubtypes.MEDIASUBTYPE_PCM,
        _ => false,
    };

    private static long CountReadableBytes(WaveFileReader reader)
    {
        var buffer = new byte[ReadBufferBytes];
        long total = 0;
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static WavInspection Rejected(AudioRejection rejection) => new(null, rejection);
}
