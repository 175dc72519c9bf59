using System.Diagnostics;
using StitchFin.Testing;

namespace StitchFin.Deploy.Tests;

/// <summary>
/// A service started as a deployment starts it (Production) with a secret published in the repository, or with a
/// short admin key, exits at once, naming the setting and not the value.
/// </summary>
public sealed class PublishedSecretsTests
{
    private const string DevelopmentAdminKey = "dev-admin-key-change-me";
    private const string DevelopmentSigningKey = "dev-identity-signing-key-0123456789abcdef";

    public static TheoryData<string, string, string> RefusedSecrets => new()
    {
        { "gateway", "Edge:AdminKey", DevelopmentAdminKey },
        { "gateway", "Edge:AdminKey", "an-admin-key-of-31-characters-0" },
        { "gateway", "Identity:SigningKey", DevelopmentSigningKey },
        { "tenancy", "ApiKeys:Pepper", "change-me-to-another-random-secret-of-32-or-more-chars" },
        { "tenancy", "Identity:SigningKey", DevelopmentSigningKey },
        { "conversation", "Identity:SigningKey", DevelopmentSigningKey },
        { "providers", "Identity:SigningKey", "change-me-to-a-random-secret-of-32-or-more-chars" },
        { "voice", "Identity:SigningKey", DevelopmentSigningKey },
        { "metering", "Identity:SigningKey", DevelopmentSigningKey },
    };

    [Theory]
    [MemberData(nameof(RefusedSecrets))]
    public async Task Service_refuses_to_start_in_production(string service, string setting, string value)
    {
        var (exit, output) = await StartAsync(service, new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // Every other secret is a proper one, so the setting under test is the only reason to refuse.
            ["Edge__AdminKey"] = "an-admin-key-that-nobody-has-published-anywhere",
            ["Identity__SigningKey"] = TestInfrastructure.SigningKey,
            ["ApiKeys__Pepper"] = TestInfrastructure.TestPepper,
            [setting.Replace(":", "__", StringComparison.Ordinal)] = value,
            // Never opened or bound: the service must stop before it connects to or listens on anything.
            ["ConnectionStrings__Database"] = "Host=127.0.0.1;Port=1;Database=never_opened",
            ["Urls"] = "http://127.0.0.1:0",
        });

        Assert.NotEqual(0, exit);
        Assert.Contains(setting, output, StringComparison.Ordinal);
        Assert.DoesNotContain(value, output, StringComparison.Ordinal);
    }

    /// <summary>Runs the built service as run.sh does and returns its exit code and everything it wrote.</summary>
    private static async Task<(int Exit, string Output)> StartAsync(string service, Dictionary<string, string> environment)
    {
        var name = char.ToUpperInvariant(service[0]) + service[1..];
        var project = Path.Combine(RepositoryRoot.Path, "services", service, $"{name}.Api");
        var assembly = Path.Combine(project, "bin", BuildConfiguration, "net10.0", $"StitchFin.{name}.Api.dll");
        Assert.True(File.Exists(assembly), $"{assembly} is missing; build the solution in {BuildConfiguration} first");

        var start = new ProcessStartInfo("dotnet", [assembly])
        {
            WorkingDirectory = project,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{service} was still running after a minute: it started despite the secret");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif
}
