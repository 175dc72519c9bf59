using StitchFin.Voice.Audio;

namespace StitchFin.Voice.Tests;

public sealed class WavAudioTests
{
    [Fact]
    public void A_pcm_sine_is_read_with_its_duration()
    {
        var inspection = WavAudio.Inspect(Recordings.Sine(2));

        Assert.Null(inspection.Rejection);
        Assert.Equal(TimeSpan.FromSeconds(2), inspection.Wav!.Duration);
        Assert.Equal(1, inspection.Wav.Format.Channels);
    }

    [Fact]
    public void The_duration_comes_from_the_samples_not_from_a_declared_byte_rate()
    {
        var recording = Recordings.Sine(61);
        // The canonical header's byte rate (offset 28), declared ten times too high: 61 s would read as 6.1 s.
        BitConverter.TryWriteBytes(recording.AsSpan(28, 4), BitConverter.ToInt32(recording, 28) * 10);

        var inspection = WavAudio.Inspect(recording);

        Assert.Equal(400, inspection.Rejection!.Status);
        Assert.Contains("61 s", inspection.Rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_block_align_that_does_not_fit_the_channels_and_sample_size_is_refused()
    {
        var recording = Recordings.Sine(1);
        BitConverter.TryWriteBytes(recording.AsSpan(32, 2), (short)7);

        Assert.Equal(400, WavAudio.Inspect(recording).Rejection!.Status);
    }

    [Fact]
    public void Stereo_pcm_is_accepted()
    {
        var inspection = WavAudio.Inspect(Recordings.Stereo(1));

        Assert.Null(inspection.Rejection);
        Assert.Equal(2, inspection.Wav!.Format.Channels);
    }

    [Fact]
    public void Exactly_sixty_seconds_is_accepted_and_one_more_is_not()
    {
        Assert.Null(WavAudio.Inspect(Recordings.Sine(60)).Rejection);
        Assert.Equal(400, WavAudio.Inspect(Recordings.Sine(61)).Rejection!.Status);
        Assert.Null(WavAudio.Read(Recordings.Sine(61)).Rejection);
    }

    [Fact]
    public void A_data_chunk_shorter_than_declared_is_400()
    {
        var rejection = WavAudio.Inspect(Recordings.Truncated()).Rejection;

        Assert.Equal(400, rejection!.Status);
        Assert.Contains("truncated", rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_cut_inside_the_format_chunk_is_400()
    {
        Assert.Equal(400, WavAudio.Inspect(Recordings.Sine(1)[..30]).Rejection!.Status);
    }

    [Fact]
    public void Ieee_float_is_400()
    {
        var rejection = WavAudio.Inspect(Recordings.IeeeFloat(1)).Rejection;

        Assert.Equal(400, rejection!.Status);
        Assert.Contains("IeeeFloat", rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Mp3_and_noise_are_415()
    {
        Assert.Equal(415, WavAudio.Inspect(Recordings.Mp3()).Rejection!.Status);
        Assert.Equal(415, WavAudio.Inspect(Recordings.RandomBytes(4000, seed: 7)).Rejection!.Status);
        Assert.Equal(415, WavAudio.Inspect([0x49, 0x44]).Rejection!.Status);
    }

    [Fact]
    public void Riff_of_another_kind_is_415()
    {
        var avi = Recordings.Sine(1);
        "AVI "u8.CopyTo(avi.AsSpan(8));

        Assert.Equal(415, WavAudio.Inspect(avi).Rejection!.Status);
    }
}
