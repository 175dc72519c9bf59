using System.Diagnostics;
using StitchFin.ServiceDefaults.Identity;
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

    private const string Placeholder = "change-me-to-a-random-secret-of-32-or-more-chars";

    /// <summary>Every identity key any service needs, each a proper secret.</summary>
    private static readonly string[] IdentityKeys =
    [
        "gateway:tenancy", "gateway:conversation", "gateway:providers", "gateway:voice", "gateway:metering",
        "voice:conversation", "conversation:providers",
    ];

    public static TheoryData<string, string, string> RefusedSecrets => new()
    {
        { "gateway", "Edge:AdminKey", DevelopmentAdminKey },
        { "gateway", "Edge:AdminKey", "an-admin-key-of-31-characters-0" },
        { "gateway", "Identity:Keys:gateway:conversation", DevelopmentSigningKey },
        { "tenancy", "ApiKeys:Pepper", "change-me-to-another-random-secret-of-32-or-more-chars" },
        { "tenancy", "Identity:Keys:gateway:tenancy", DevelopmentSigningKey },
        { "conversation", "Identity:Keys:voice:conversation", Placeholder },
        { "providers", "Identity:Keys:conversation:providers", Placeholder },
        { "voice", "Identity:Keys:gateway:voice", DevelopmentSigningKey },
        { "metering", "Identity:Keys:gateway:metering", "an-identity-key-31-characters-0" },
        // The root can sign as anyone: outside Development no service takes it, however good the secret.
        { "gateway", "Identity:SigningKey", TestInfrastructure.SigningKey },
        { "conversation", "Identity:SigningKey", TestInfrastructure.SigningKey },
    };

    [Theory]
    [MemberData(nameof(RefusedSecrets))]
    public async Task Service_refuses_to_start_in_production(string service, string setting, string value)
    {
        // Every other secret is a proper one, so the setting under test is the only reason to refuse.
        var environment = IdentityKeys.ToDictionary(
            pair => $"Identity__Keys__{pair.Replace(":", "__", StringComparison.Ordinal)}",
            pair => InternalIdentityKeys.Derive(TestInfrastructure.SigningKey, pair.Split(':')[0], pair.Split(':')[1]));
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        environment["Edge__AdminKey"] = "an-admin-key-that-nobody-has-published-anywhere";
        environment["ApiKeys__Pepper"] = TestInfrastructure.TestPepper;
        environment[setting.Replace(":", "__", StringComparison.Ordinal)] = value;
        // Never opened or bound: the service must stop before it connects to or listens on anything.
        environment["ConnectionStrings__Database"] = "Host=127.0.0.1;Port=1;Database=never_opened";
        environment["Urls"] = "http://127.0.0.1:0";
        var (exit, output) = await StartAsync(service, environment);

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
