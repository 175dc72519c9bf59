using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using NAudio.Wave;
using StitchFin.Voice.Audio;
using StitchFin.Voice.Speech;

namespace StitchFin.Voice.Tests;

/// <summary>A spoken turn end to end through the voice service, with the beep engine so the reply audio is exact.</summary>
public sealed class VoiceTurnTests(VoiceHost host) : IClassFixture<VoiceHost>
{
    [Fact]
    public async Task Two_seconds_of_audio_come_back_as_a_spoken_reply()
    {
        var session = host.Conversation.NewSession();
        var tenant = Guid.NewGuid();
        var audio = Recordings.Sine(2);

        using var response = await host.PostWavAsync(session, audio, idempotencyKey: "turn-1", tenant: tenant);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("User%20said%20something%20via%20voice.", Header(response, "X-Transcript"));
        Assert.Equal(MockSpeechToText.HeardSomething, Uri.UnescapeDataString(Header(response, "X-Transcript")));
        Assert.Equal(FakeConversation.DefaultReply, Uri.UnescapeDataString(Header(response, "X-Reply-Text")));
        Assert.False(response.Headers.Contains("Idempotent-Replayed"));

        var sent = Assert.Single(host.Conversation.ReceivedFor(session));
        Assert.Equal("voice", sent.Body.Channel);
        Assert.Equal(MockSpeechToText.HeardSomething, sent.Body.Content);
        Assert.Equal(Recordings.Fingerprint(audio), sent.Body.RequestFingerprint);
        Assert.Equal("turn-1", sent.IdempotencyKey);
        Assert.Equal(tenant, sent.TenantId);
        Assert.True(Guid.TryParse(Header(response, "X-Session-Message-Id"), out _));

        using var reader = new WaveFileReader(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal(WaveFormatEncoding.Pcm, reader.WaveFormat.Encoding);
        Assert.Equal(1, reader.WaveFormat.Channels);
        Assert.Equal(BeepSpeechSynthesizer.SampleRate, reader.WaveFormat.SampleRate);
        var expected = BeepSpeechSynthesizer.SampleCount(BeepSpeechSynthesizer.DurationMilliseconds(FakeConversation.DefaultReply));
        Assert.Equal(expected, reader.SampleCount);
    }

    [Fact]
    public async Task Json_answer_carries_transcript_reply_usage_and_base64_audio()
    {
        var session = host.Conversation.NewSession();

        using var response = await host.PostWavAsync(session, Recordings.Sine(2), idempotencyKey: "json-1", json: true);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal(MockSpeechToText.HeardSomething, root.GetProperty("transcript").GetString());
        var reply = root.GetProperty("reply");
        Assert.Equal("assistant", reply.GetProperty("role").GetString());
        Assert.Equal("voice", reply.GetProperty("channel").GetString());
        Assert.Equal(FakeConversation.DefaultReply, reply.GetProperty("content").GetString());
        Assert.Equal(Header(response, "X-Session-Message-Id"), reply.GetProperty("id").GetString());
        Assert.Equal("VendorA", root.GetProperty("usage").GetProperty("provider").GetString());
        Assert.Equal(0.000276m, root.GetProperty("usage").GetProperty("costUsd").GetDecimal());
        Assert.Equal("audio/wav", root.GetProperty("audioContentType").GetString());

        using var reader = new WaveFileReader(new MemoryStream(Convert.FromBase64String(root.GetProperty("audioBase64").GetString()!)));
        Assert.Equal(1, reader.WaveFormat.Channels);
        Assert.Equal(WaveFormatEncoding.Pcm, reader.WaveFormat.Encoding);
        Assert.True(reader.SampleCount > 0);
    }

    [Fact]
    public async Task Audio_shorter_than_half_a_second_is_heard_as_silence()
    {
        var session = host.Conversation.NewSession();

        using var response = await host.PostWavAsync(session, Recordings.Sine(0.2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MockSpeechToText.HeardSilence, Uri.UnescapeDataString(Header(response, "X-Transcript")));
        Assert.Equal(MockSpeechToText.HeardSilence, Assert.Single(host.Conversation.ReceivedFor(session)).Body.Content);
    }

    [Fact]
    public async Task Multipart_form_with_an_audio_file_field_works()
    {
        var session = host.Conversation.NewSession();
        var audio = Recordings.Sine(1.5);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("ignored"), "note");
        var file = new ByteArrayContent(audio);
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(file, "audio", "turn.wav");

        using var response = await host.PostAsync(session, form, idempotencyKey: "form-1", json: true);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var sent = Assert.Single(host.Conversation.ReceivedFor(session));
        Assert.Equal(Recordings.Fingerprint(audio), sent.Body.RequestFingerprint);
        Assert.Equal(MockSpeechToText.HeardSomething, sent.Body.Content);
    }

    [Theory]
    [InlineData("audio/x-wav")]
    [InlineData("audio/wave")]
    public async Task Other_wav_content_types_are_accepted(string contentType)
    {
        var session = host.Conversation.NewSession();
        var content = new ByteArrayContent(Recordings.Sine(1));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        using var response = await host.PostAsync(session, content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Without_an_idempotency_key_a_fresh_one_is_sent()
    {
        var session = host.Conversation.NewSession();

        using var first = await host.PostWavAsync(session, Recordings.Sine(1));
        using var second = await host.PostWavAsync(session, Recordings.Sine(1));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var keys = host.Conversation.ReceivedFor(session).Select(r => r.IdempotencyKey).ToList();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, key => Assert.True(Guid.TryParse(key, out _), key));
        Assert.NotEqual(keys[0], keys[1]);
    }

    [Fact]
    public async Task Same_key_and_audio_replays_the_exchange_and_says_so()
    {
        var session = host.Conversation.NewSession();
        var audio = Recordings.Sine(1);

        using var first = await host.PostWavAsync(session, audio, idempotencyKey: "replay-1");
        using var second = await host.PostWavAsync(session, audio, idempotencyKey: "replay-1");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("true", Header(second, "Idempotent-Replayed"));
        Assert.Equal(Header(first, "X-Session-Message-Id"), Header(second, "X-Session-Message-Id"));
    }

    [Fact]
    public async Task Same_key_with_other_audio_passes_conversations_422_through()
    {
        var session = host.Conversation.NewSession();
        using var first = await host.PostWavAsync(session, Recordings.Sine(1), idempotencyKey: "reuse-1");

        using var second = await host.PostWavAsync(session, Recordings.Sine(1.5), idempotencyKey: "reuse-1");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        Assert.Contains("different request", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(1000)]
    public async Task An_overlong_idempotency_key_is_a_validation_problem(int length)
    {
        var session = host.Conversation.NewSession();

        using var response = await host.PostWavAsync(session, Recordings.Sine(1), idempotencyKey: new string('k', length));

        var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("idempotencyKey", out _));
        Assert.Empty(host.Conversation.ReceivedFor(session));
    }

    [Fact]
    public async Task A_reply_in_any_script_is_percent_encoded_utf8()
    {
        const string reply = "[VendorB] Grüße, naïve café — 你好 ✓ 50% \"quoted\"";
        var session = host.Conversation.NewSession(reply);

        using var response = await host.PostWavAsync(session, Recordings.Sine(1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var header = Header(response, "X-Reply-Text");
        Assert.All(header, c => Assert.True(c is > ' ' and <= '~', $"'{c}' is not a plain header character"));
        Assert.Equal(Uri.EscapeDataString(reply), header);
        Assert.Equal(reply, Uri.UnescapeDataString(header));
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();
}
