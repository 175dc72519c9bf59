using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NAudio.Wave;
using StitchFin.Testing;
using StitchFin.Voice.Audio;
using StitchFin.Voice.Speech;

namespace StitchFin.Voice.Tests;

/// <summary>
/// Both engines. espeak-ng is installed by the test script, so its absence fails these tests rather than skipping them.
/// </summary>
public sealed class SpeechEngineTests
{
    private static string Espeak =>
        SpeechEngines.FindExecutable("espeak-ng", Environment.GetEnvironmentVariable("PATH"))
        ?? throw new Xunit.Sdk.XunitException("espeak-ng is not on PATH; the test script installs it (apt-get install espeak-ng).");

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("Hello there.")]
    [InlineData(FakeConversation.DefaultReply)]
    [InlineData("naïve 你好 ✓ 🎤")]
    public void The_beep_lasts_half_a_second_plus_60_ms_per_character(string text)
    {
        var characters = text.EnumerateRunes().Count();
        var milliseconds = 500 + (60 * characters);

        using var reader = Read(BeepSpeechSynthesizer.Render(text));

        Assert.Equal(milliseconds, BeepSpeechSynthesizer.DurationMilliseconds(text));
        Assert.Equal(22_050L * milliseconds / 1000, reader.SampleCount);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), reader.TotalTime);
    }

    [Theory]
    [InlineData(491, 29_960)]
    [InlineData(492, 30_000)]
    [InlineData(5_000, 30_000)]
    public void The_beep_never_exceeds_thirty_seconds(int characters, int milliseconds)
    {
        var text = new string('x', characters);

        using var reader = Read(BeepSpeechSynthesizer.Render(text));

        Assert.Equal(milliseconds, BeepSpeechSynthesizer.DurationMilliseconds(text));
        Assert.Equal(22_050L * milliseconds / 1000, reader.SampleCount);
    }

    [Fact]
    public void The_beep_is_a_quarter_second_tone_then_silence_in_mono_16_bit_pcm()
    {
        using var reader = Read(BeepSpeechSynthesizer.Render("Hello there, this reply is long enough."));

        Assert.Equal(new WaveFormat(22_050, 16, 1), reader.WaveFormat);
        var samples = new float[reader.SampleCount];
        Assert.Equal(samples.Length, reader.ToSampleProvider().Read(samples));

        var beep = 22_050 / 4;
        Assert.InRange(samples.Take(beep).Max(), 0.29f, 0.31f);
        Assert.All(samples.Skip(beep + 1), sample => Assert.Equal(0f, sample));
    }

    [Fact]
    public async Task Espeak_ng_speaks_a_mono_pcm_wav()
    {
        var speech = await EspeakEngine().SynthesizeAsync("Hello, this is the assistant speaking.", CancellationToken.None);

        Assert.Equal(SpeechEngineNames.Espeak, speech.Engine);
        var inspection = WavAudio.Read(speech.Wav);
        Assert.Null(inspection.Rejection);
        Assert.Equal(1, inspection.Wav!.Format.Channels);
        Assert.Equal(16, inspection.Wav.Format.BitsPerSample);
        Assert.InRange(inspection.Wav.Duration, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("-v xx --stdout")]
    [InlineData("\"quoted\" $(touch /tmp/voice-injection) `id`; rm -rf / && echo | cat")]
    [InlineData("line one\nline two\0with a nul")]
    public async Task Espeak_speaks_hostile_text_as_plain_words(string text)
    {
        var speech = await EspeakEngine().SynthesizeAsync(text, CancellationToken.None);

        Assert.Equal(SpeechEngineNames.Espeak, speech.Engine);
        Assert.Equal(1, WavAudio.Read(speech.Wav).Wav!.Format.Channels);
        Assert.False(File.Exists("/tmp/voice-injection"));
    }

    [Fact]
    public async Task A_failing_espeak_falls_back_to_the_beep()
    {
        var script = Script("exit 3");
        try
        {
            var speech = await EspeakEngine(script).SynthesizeAsync("Hello", CancellationToken.None);

            Assert.Equal(SpeechEngineNames.Beep, speech.Engine);
            Assert.Equal(BeepSpeechSynthesizer.Render("Hello"), speech.Wav);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public async Task A_hanging_espeak_is_killed_and_the_beep_answers()
    {
        var script = Script("sleep 60");
        try
        {
            var speech = await EspeakEngine(script, timeoutSeconds: 1).SynthesizeAsync("Hello", CancellationToken.None);

            Assert.Equal(SpeechEngineNames.Beep, speech.Engine);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public void Auto_finds_espeak_ng_on_this_machine()
    {
        Assert.NotNull(Espeak);
        using var services = Services(new VoiceOptions { SpeechEngine = SpeechEngine.Auto });

        var engine = Assert.IsType<EspeakSpeechSynthesizer>(SpeechEngines.Create(services));

        Assert.Equal(Espeak, engine.Executable);
    }

    [Fact]
    public void Auto_without_espeak_ng_uses_the_beep()
    {
        using var services = Services(new VoiceOptions { SpeechEngine = SpeechEngine.Auto, EspeakCommand = "/nonexistent/espeak-ng" });

        Assert.IsType<BeepSpeechSynthesizer>(SpeechEngines.Create(services));
        Assert.Null(SpeechEngines.FindExecutable("espeak-ng", ""));
        Assert.Null(SpeechEngines.FindExecutable("espeak-ng", "/nonexistent:/also-missing"));
    }

    [Fact]
    public void Beep_can_be_forced_even_with_espeak_installed()
    {
        using var services = Services(new VoiceOptions { SpeechEngine = SpeechEngine.Beep });

        Assert.IsType<BeepSpeechSynthesizer>(SpeechEngines.Create(services));
    }

    [Fact]
    public void Forcing_espeak_without_it_refuses_to_start()
    {
        var result = new VoiceOptionsValidation().Validate(null, new VoiceOptions { SpeechEngine = SpeechEngine.Espeak, EspeakCommand = "/nonexistent/espeak-ng" });

        Assert.True(result.Failed);
        Assert.Contains("espeak-ng", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_configured_for_a_missing_espeak_fails_at_start()
    {
        var configuration = VoiceHost.Configuration(new Uri("http://127.0.0.1:9/"), "espeak");
        configuration["Voice:EspeakCommand"] = "/nonexistent/espeak-ng";
        await using var factory = new ServiceFactory<Program>(configuration);

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("espeak-ng", error.ToString(), StringComparison.Ordinal);
    }

    private static EspeakSpeechSynthesizer EspeakEngine(string? executable = null, int timeoutSeconds = 10)
    {
        var options = Options.Create(new VoiceOptions { SpeechTimeoutSeconds = timeoutSeconds });
        return new EspeakSpeechSynthesizer(executable ?? Espeak, options, new BeepSpeechSynthesizer(), NullLogger<EspeakSpeechSynthesizer>.Instance);
    }

    private static ServiceProvider Services(VoiceOptions options) => new ServiceCollection()
        .AddLogging()
        .AddSingleton(Options.Create(options))
        .AddSingleton<BeepSpeechSynthesizer>()
        .BuildServiceProvider();

    /// <summary>A stand-in espeak-ng: an executable shell script with this body.</summary>
    private static string Script(string body)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fake-espeak-{Guid.NewGuid():N}.sh");
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    private static WaveFileReader Read(byte[] wav) => new(new MemoryStream(wav));
}

/// <summary>The whole turn with real speech: the reply comes back as espeak-ng's mono PCM WAV.</summary>
public sealed class EspeakVoiceTurnTests(EspeakVoiceHost host) : IClassFixture<EspeakVoiceHost>
{
    [Fact]
    public async Task The_service_answers_with_espeak_speech()
    {
        Assert.IsType<EspeakSpeechSynthesizer>(host.Factory.Services.GetRequiredService<ISpeechSynthesizer>());
        var session = host.Conversation.NewSession();

        using var response = await host.PostWavAsync(session, Recordings.Sine(2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
        using var reader = new WaveFileReader(new MemoryStream(await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal(WaveFormatEncoding.Pcm, reader.WaveFormat.Encoding);
        Assert.Equal(1, reader.WaveFormat.Channels);
        var beep = BeepSpeechSynthesizer.SampleCount(BeepSpeechSynthesizer.DurationMilliseconds(FakeConversation.DefaultReply));
        Assert.NotEqual(beep, reader.SampleCount);
        Assert.True(reader.SampleCount > 0);
    }
}
