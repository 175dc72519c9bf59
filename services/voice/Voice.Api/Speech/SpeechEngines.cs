using Microsoft.Extensions.Options;

namespace StitchFin.Voice.Speech;

/// <summary>
/// Picks the engine from <c>Voice:SpeechEngine</c>: <c>beep</c>, <c>espeak</c> (which must be installed), or
/// <c>auto</c> = espeak-ng when <see cref="VoiceOptions.EspeakCommand"/> is found, else the beep.
/// </summary>
public static class SpeechEngines
{
    public static ISpeechSynthesizer Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<VoiceOptions>>();
        var beep = services.GetRequiredService<BeepSpeechSynthesizer>();
        if (options.Value.SpeechEngine == SpeechEngine.Beep)
        {
            return beep;
        }

        var espeak = FindExecutable(options.Value.EspeakCommand, Environment.GetEnvironmentVariable("PATH"));
        if (espeak is null)
        {
            // Forced espeak without espeak-ng is refused at start by VoiceOptionsValidation; auto falls back.
            return beep;
        }

        return new EspeakSpeechSynthesizer(espeak, options, beep, services.GetRequiredService<ILogger<EspeakSpeechSynthesizer>>());
    }

    /// <summary>The full path of an executable: <paramref name="command"/> itself when it names a path, else the first match on PATH.</summary>
    public static string? FindExecutable(string command, string? pathVariable)
    {
        if (string.IsNullOrWhiteSpace(command))
        {
            return null;
        }

        if (command.Contains(Path.DirectorySeparatorChar) || command.Contains(Path.AltDirectorySeparatorChar))
        {
            return IsExecutable(command) ? Path.GetFullPath(command) : null;
        }

        foreach (var directory in (pathVariable ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] names = OperatingSystem.IsWindows() ? [command, command + ".exe"] : [command];
            foreach (var name in names)
            {
                var candidate = Path.Combine(directory, name);
                if (IsExecutable(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & anyExecute) != 0;
    }
}

/// <summary>Refuses to start with <c>Voice:SpeechEngine=espeak</c> when espeak-ng cannot be found.</summary>
public sealed class VoiceOptionsValidation : IValidateOptions<VoiceOptions>
{
    public ValidateOptionsResult Validate(string? name, VoiceOptions options) =>
        options.SpeechEngine == SpeechEngine.Espeak
            && SpeechEngines.FindExecutable(options.EspeakCommand, Environment.GetEnvironmentVariable("PATH")) is null
            ? ValidateOptionsResult.Fail(
                $"Voice:SpeechEngine is 'espeak' but '{options.EspeakCommand}' was not found on PATH; install espeak-ng or use 'auto' or 'beep'.")
            : ValidateOptionsResult.Success;
}
