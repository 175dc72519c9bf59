using System.Diagnostics;
using System.Text.RegularExpressions;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Testing;

namespace StitchFin.Deploy.Tests;

/// <summary>
/// What can be checked of the container deployment without a Docker engine: the compose file is valid, it
/// uses the same configuration names as the local runner, and each service publishes exactly as its
/// Dockerfile publishes it.
/// </summary>
public sealed partial class DeploymentTests
{
    private static readonly string Root = RepositoryRoot.Path;
    private static readonly string[] Services = ["gateway", "tenancy", "conversation", "providers", "voice", "metering"];

    public static TheoryData<string> ServiceNames => new(Services);

    [Fact]
    public async Task Compose_file_is_valid_for_docker_compose_v1()
    {
        var (exit, output) = await RunAsync("docker-compose", ["-f", "deploy/docker-compose.yml", "--env-file", "deploy/.env.example", "config", "-q"]);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public void Compose_sets_every_configuration_name_the_local_runner_sets()
    {
        var runner = File.ReadAllText(Path.Combine(Root, "run.sh"));
        var compose = File.ReadAllText(Path.Combine(Root, "deploy", "docker-compose.yml"));
        var runnerNames = ConfigName().Matches(runner).Select(m => m.Groups["name"].Value)
            .Where(name => !name.StartsWith("ReverseProxy__", StringComparison.Ordinal)).ToHashSet();
        Assert.NotEmpty(runnerNames);
        foreach (var name in runnerNames)
        {
            Assert.True(compose.Contains($"{name}:", StringComparison.Ordinal), $"deploy/docker-compose.yml does not set {name}, which run.sh sets");
        }

        foreach (var cluster in new[] { "tenancy", "conversation", "providers", "voice", "metering" })
        {
            Assert.Contains($"ReverseProxy__Clusters__{cluster}__Destinations__primary__Address:", compose, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Env_example_lists_every_secret_the_compose_file_needs()
    {
        var compose = File.ReadAllText(Path.Combine(Root, "deploy", "docker-compose.yml"));
        var example = File.ReadAllText(Path.Combine(Root, "deploy", ".env.example"));
        // The local runner's names: scripts/config.sh, and the identity keys it derives in scripts/identity-keys.sh.
        var config = File.ReadAllText(Path.Combine(Root, "scripts", "config.sh")) + File.ReadAllText(Path.Combine(Root, "scripts", "identity-keys.sh"));
        foreach (var name in VariableName().Matches(compose).Select(m => m.Groups["name"].Value).Distinct())
        {
            Assert.True(example.Contains($"{name}=", StringComparison.Ordinal), $".env.example lacks {name}");
            Assert.True(config.Contains(name, StringComparison.Ordinal)
                || (name.StartsWith("STITCHFIN_IDENTITY_KEY_", StringComparison.Ordinal) && config.Contains("STITCHFIN_IDENTITY_KEY_{CALLER}_{CALLEE}", StringComparison.Ordinal)), $"scripts/config.sh lacks {name}");
        }
    }

    [Theory]
    [MemberData(nameof(ServiceNames))]
    public async Task Run_sh_and_compose_give_a_service_the_same_identity_keys_and_run_sh_derives_them_as_the_services_do(string service)
    {
        const string root = "a-root-key-for-the-deployment-tests-0123456789";
        var (exit, output) = await RunAsync("bash", ["-c", $"set -euo pipefail; source scripts/identity-keys.sh; STITCHFIN_IDENTITY_SIGNING_KEY='{root}' identity_keys_env {service}"]);
        Assert.True(exit == 0, output);
        var fromRunSh = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

        foreach (var (name, key) in fromRunSh)
        {
            var pair = name["Identity__Keys__".Length..].Split("__");
            Assert.Equal(InternalIdentityKeys.Derive(root, pair[0], pair[1]), key);
        }

        var compose = File.ReadAllLines(Path.Combine(Root, "deploy", "docker-compose.yml"));
        var block = compose.SkipWhile(line => line != $"  {service}:").Skip(1).TakeWhile(line => line.Length == 0 || line.StartsWith("   ", StringComparison.Ordinal));
        var fromCompose = block.Select(line => line.Trim()).Where(line => line.StartsWith("Identity__Keys__", StringComparison.Ordinal)).Select(line => line.Split(':')[0]);
        Assert.Equal(fromRunSh.Keys.Order(StringComparer.Ordinal), fromCompose.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(compose, line => line.Contains("Identity__SigningKey", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ServiceNames))]
    public async Task Service_publishes_in_release_as_its_dockerfile_does(string service)
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "deploy", $"{service}.Dockerfile"));
        var publish = PublishLine().Match(dockerfile);
        Assert.True(publish.Success, $"{service}.Dockerfile has no 'RUN dotnet publish' line");
        Assert.Contains("USER $APP_UID", dockerfile, StringComparison.Ordinal);
        Assert.Contains("mcr.microsoft.com/dotnet/aspnet:10.0", dockerfile, StringComparison.Ordinal);

        var output = Path.Combine(Path.GetTempPath(), $"stitchfin-publish-{service}-{Guid.NewGuid():N}");
        try
        {
            // The Dockerfile's own arguments, minus --no-restore (its restore ran as an earlier layer).
            var arguments = publish.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Where(a => a != "--no-restore").Select(a => a == "/app" ? output : a).ToArray();
            var (exit, log) = await RunAsync("dotnet", ["publish", .. arguments, "-nologo", "-v", "q"]);
            Assert.True(exit == 0, log);
            var entry = EntryPoint().Match(dockerfile).Groups["dll"].Value;
            Assert.True(File.Exists(Path.Combine(output, entry)), $"{entry} not published");
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"""(?<name>[A-Za-z]+__[A-Za-z0-9_]+)=")]
    private static partial Regex ConfigName();

    [GeneratedRegex(@"\$\{(?<name>STITCHFIN_[A-Z_]+)")]
    private static partial Regex VariableName();

    [GeneratedRegex(@"^RUN dotnet publish (?<args>.+)$", RegexOptions.Multiline)]
    private static partial Regex PublishLine();

    [GeneratedRegex(@"ENTRYPOINT \[""dotnet"", ""(?<dll>[^""]+)""\]")]
    private static partial Regex EntryPoint();
}
