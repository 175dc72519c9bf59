using System.Collections.Frozen;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace StitchFin.ServiceDefaults;

/// <summary>
/// The one rule for the secrets a service is configured with (the admin key, the identity signing key, the API-key
/// pepper): at least <see cref="MinimumLength"/> characters, and outside Development none of the values published
/// with StitchFin.
/// </summary>
public static class Secrets
{
    public const int MinimumLength = 32;

    // Anyone who has read the repository knows these: scripts/config.sh's former defaults and deploy/.env.example's
    // placeholders. Development may use them; a deployment that forgot to replace one must not start.
    private static readonly FrozenSet<string> Published = FrozenSet.Create(StringComparer.Ordinal,
    [
        "dev-admin-key-change-me",
        "dev-identity-signing-key-0123456789abcdef",
        "dev-api-key-pepper-0123456789abcdef",
        "change-me-admin-key",
        "change-me-to-a-random-secret-of-32-or-more-chars",
        "change-me-to-another-random-secret-of-32-or-more-chars",
    ]);

    /// <summary>
    /// Validates <paramref name="setting"/> by the rule above (with <c>ValidateOnStart</c>, the service does not start
    /// otherwise). The failure names the setting and never the value, since start failures end up in logs.
    /// </summary>
    /// <param name="shortAllowedInDevelopment">Development may leave it short or empty (a policy secret such as the
    /// admin key, not a key the code cannot work without).</param>
    public static OptionsBuilder<TOptions> ValidateSecret<TOptions>(
        this OptionsBuilder<TOptions> options, string setting, Func<TOptions, string?> secret, bool shortAllowedInDevelopment = false)
        where TOptions : class
    {
        options.Services.AddSingleton<IValidateOptions<TOptions>>(services => new SecretValidation<TOptions>(
            options.Name, setting, secret, shortAllowedInDevelopment, services.GetRequiredService<IHostEnvironment>()));
        return options;
    }

    /// <summary>Why <paramref name="value"/> may not serve as <paramref name="setting"/>, or <c>null</c>; names the setting, never the value.</summary>
    public static string? Problem(string setting, string value, bool development, bool shortAllowedInDevelopment = false)
    {
        if (!development && Published.Contains(value))
        {
            return $"{setting} is a development value published with StitchFin; outside Development set a secret of your own " +
                $"(at least {MinimumLength} random characters).";
        }

        if (value.Length < MinimumLength && !(development && shortAllowedInDevelopment))
        {
            return $"{setting} must be set to a secret of at least {MinimumLength} characters.";
        }

        return null;
    }

    private sealed class SecretValidation<TOptions>(
        string name, string setting, Func<TOptions, string?> secret, bool shortAllowedInDevelopment, IHostEnvironment environment)
        : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? optionsName, TOptions options)
        {
            if (optionsName != name)
            {
                return ValidateOptionsResult.Skip;
            }

            return Problem(setting, secret(options) ?? "", environment.IsDevelopment(), shortAllowedInDevelopment) is { } problem
                ? ValidateOptionsResult.Fail(problem)
                : ValidateOptionsResult.Success;
        }
    }
}
