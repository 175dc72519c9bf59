using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using StitchFin.Voice.Audio;

namespace StitchFin.Voice.Speech;

/// <summary>
/// Real speech from espeak-ng. The text is one argument after <c>--</c> (no shell, no option injection) and the WAV
/// goes to a temporary file, because <c>--stdout</c> cannot seek back to write the RIFF sizes. A run that fails, times
/// out or yields anything but a mono PCM WAV is logged and answered with the beep, so a reply is never lost to TTS.
/// </summary>
public sealed partial class EspeakSpeechSynthesizer(
    string executable,
    IOptions<VoiceOptions> options,
    BeepSpeechSynthesizer fallback,
    ILogger<EspeakSpeechSynthesizer> logger) : ISpeechSynthesizer
{
    public string Engine => SpeechEngineNames.Espeak;

    public string Executable => executable;

    public async Task<SynthesizedSpeech> SynthesizeAsync(string text, CancellationToken cancellationToken)
    {
        var spoken = SpeakableText(text, options.Value.MaxSpokenCharacters);
        if (string.IsNullOrWhiteSpace(spoken))
        {
            return await fallback.SynthesizeAsync(text, cancellationToken);
        }

        var output = Path.Combine(Path.GetTempPath(), $"stitchfin-voice-{Guid.NewGuid():N}.wav");
        try
        {
            var failure = await RunAsync(spoken, output, cancellationToken);
            if (failure is null)
            {
                var wav = await File.ReadAllBytesAsync(output, cancellationToken);
                var inspection = WavAudio.Read(wav);
                failure = inspection.Wav switch
                {
                    null => inspection.Rejection!.Detail,
                    { Format.Channels: not 1 } => $"it wrote {inspection.Wav.Format.Channels} channels instead of mono",
                    { DataBytes: 0 } => "it wrote no audio",
                    _ => null,
                };
                if (failure is null)
                {
                    return new SynthesizedSpeech(wav, Engine);
                }
            }

            LogFallback(logger, failure);
            return await fallback.SynthesizeAsync(text, cancellationToken);
        }
        finally
        {
            File.Delete(output);
        }
    }

    /// <summary>Control characters become spaces and the length is bounded, without splitting a surrogate pair.</summary>
    public static string SpeakableText(string text, int maxCharacters)
    {
        var length = Math.Min(text.Length, maxCharacters);
        if (length < text.Length && length > 0 && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        return string.Create(length, text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        });
    }

    /// <returns>Why the run failed, or null when espeak-ng exited cleanly.</returns>
    private async Task<string?> RunAsync(string text, string outputPath, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in (string[])["-v", options.Value.EspeakVoice, "-w", outputPath, "--", text])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return $"{executable} could not be started: {e.Message}";
        }

        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.SpeechTimeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            StopQuietly(process);
            cancellationToken.ThrowIfCancellationRequested();
            return $"it did not finish within {options.Value.SpeechTimeoutSeconds} s";
        }

        await stdout;
        var errors = await stderr;
        return process.ExitCode == 0 ? null : $"it exited with code {process.ExitCode}: {errors.Trim()}";
    }

    private static void StopQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the timeout and the kill.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "espeak-ng could not speak the reply ({Reason}); answering with the beep instead.")]
    private static partial void LogFallback(ILogger logger, string reason);
}
