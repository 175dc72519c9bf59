using System.Net;
using System.Net.Http.Headers;
using StitchFin.Voice.Audio;

namespace StitchFin.Voice.Tests;

/// <summary>Every unusable upload is a clear 4xx problem, and conversation never hears of it.</summary>
public sealed class AudioValidationTests(VoiceHost host) : IClassFixture<VoiceHost>
{
    [Fact]
    public async Task Mp3_bytes_are_415()
    {
        await AssertRejectedAsync(Content(Recordings.Mp3(), "audio/wav"), HttpStatusCode.UnsupportedMediaType, "not a WAV");
    }

    [Fact]
    public async Task Mp3_content_type_is_415()
    {
        await AssertRejectedAsync(Content(Recordings.Mp3(), "audio/mpeg"), HttpStatusCode.UnsupportedMediaType, "audio/mpeg");
    }

    [Fact]
    public async Task Random_bytes_are_415()
    {
        await AssertRejectedAsync(Content(Recordings.RandomBytes(4000), "audio/wav"), HttpStatusCode.UnsupportedMediaType, "not a WAV");
    }

    [Fact]
    public async Task Json_or_missing_content_type_is_415()
    {
        await AssertRejectedAsync(Content("{\"audio\":1}"u8.ToArray(), "application/json"), HttpStatusCode.UnsupportedMediaType, "application/json");
        await AssertRejectedAsync(new ByteArrayContent(Recordings.Sine(1)), HttpStatusCode.UnsupportedMediaType, "Content-Type");
    }

    [Fact]
    public async Task A_truncated_riff_is_400()
    {
        await AssertRejectedAsync(Content(Recordings.Truncated(), "audio/wav"), HttpStatusCode.BadRequest, "truncated");
    }

    [Fact]
    public async Task A_bare_riff_header_is_400_not_415()
    {
        await AssertRejectedAsync(Content("RIFF"u8.ToArray(), "audio/wav"), HttpStatusCode.BadRequest, "corrupt");
    }

    [Fact]
    public async Task Non_pcm_wav_is_400()
    {
        await AssertRejectedAsync(Content(Recordings.IeeeFloat(1), "audio/wav"), HttpStatusCode.BadRequest, "PCM");
    }

    [Fact]
    public async Task Sixty_one_seconds_is_400()
    {
        await AssertRejectedAsync(Content(Recordings.Sine(61), "audio/wav"), HttpStatusCode.BadRequest, "60 s");
    }

    [Fact]
    public async Task An_empty_body_is_400()
    {
        await AssertRejectedAsync(Content([], "audio/wav"), HttpStatusCode.BadRequest, "empty");
    }

    [Fact]
    public async Task Eleven_megabytes_are_413_by_content_length()
    {
        await AssertRejectedAsync(Content(new byte[11 * 1024 * 1024], "audio/wav"), HttpStatusCode.RequestEntityTooLarge, "10 MB");
    }

    [Fact]
    public async Task Eleven_megabytes_without_content_length_are_413_while_reading()
    {
        var content = new StreamContent(new UnsizedStream(new byte[11 * 1024 * 1024]));
        content.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        Assert.Null(content.Headers.ContentLength);

        await AssertRejectedAsync(content, HttpStatusCode.RequestEntityTooLarge, "10 MB");
    }

    [Fact]
    public async Task A_multipart_audio_field_just_over_10_megabytes_is_413()
    {
        using var form = new MultipartFormDataContent();
        form.Add(Content(new byte[AudioLimits.MaxAudioBytes + 1], "audio/wav"), "audio", "big.wav");
        Assert.True(form.Headers.ContentLength < AudioLimits.MaxRequestBytes);

        await AssertRejectedAsync(form, HttpStatusCode.RequestEntityTooLarge, "10 MB");
    }

    [Fact]
    public async Task A_multipart_form_without_an_audio_field_is_400()
    {
        using var form = new MultipartFormDataContent();
        form.Add(Content(Recordings.Sine(1), "audio/wav"), "recording", "turn.wav");

        await AssertRejectedAsync(form, HttpStatusCode.BadRequest, "'audio'");
    }

    [Fact]
    public async Task A_multipart_form_with_two_audio_fields_is_400()
    {
        using var form = new MultipartFormDataContent();
        form.Add(Content(Recordings.Sine(1), "audio/wav"), "audio", "one.wav");
        form.Add(Content(Recordings.Sine(1), "audio/wav"), "audio", "two.wav");

        await AssertRejectedAsync(form, HttpStatusCode.BadRequest, "more than one");
    }

    [Fact]
    public async Task Mp3_in_a_multipart_form_is_415()
    {
        using var form = new MultipartFormDataContent();
        form.Add(Content(Recordings.Mp3(), "audio/mpeg"), "audio", "turn.mp3");

        await AssertRejectedAsync(form, HttpStatusCode.UnsupportedMediaType, "not a WAV");
    }

    private async Task AssertRejectedAsync(HttpContent content, HttpStatusCode status, string detailMentions)
    {
        var session = host.Conversation.NewSession();
        using var response = await host.PostAsync(session, content);
        var problem = await Problems.AssertProblemAsync(response, status);
        Assert.Contains(detailMentions, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(host.Conversation.ReceivedFor(session));
    }

    private static ByteArrayContent Content(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    /// <summary>A body whose length is unknown up front, so it travels chunked without Content-Length.</summary>
    private sealed class UnsizedStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
