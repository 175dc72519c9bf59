using System.Runtime;
using System.Runtime.InteropServices;
using StitchFin.LoadBench.Reporting;
using StitchFin.LoadBench.Sections;
using StitchFin.Testing;

namespace StitchFin.LoadBench;

/// <summary>Starts an isolated copy of the system, runs the sections in order and prints one Markdown table each.</summary>
public static class Bench
{
    /// <summary>The edge's per-tenant token bucket is lifted so the bench measures capacity, not the limiter.</summary>
    private const string UnlimitedTokens = "1000000";

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif

    public static async Task<int> RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        // The root run.sh derives every service's identity keys from, so the bench can sign as the edge.
        var signingKey = TestInfrastructure.SigningKey;
        var overrides = new Dictionary<string, string>
        {
            ["Vendors__Mode"] = options.VendorMode,
            ["Edge__RateLimit__TokenLimit"] = UnlimitedTokens,
            ["Edge__RateLimit__TokensPerPeriod"] = UnlimitedTokens,
        };

        WriteHeader(options, output);
        var system = StitchFinSystem.Create(overrides, dedicatedBroker: false, tracing: false, upstream: true);
        var exitCode = 0;
        try
        {
            Progress.Write($"starting the system ({BuildConfiguration} build) through run.sh up --detach on free ports");
            await system.InitializeAsync();
            Progress.Write($"system ready, edge {system.EdgeUrl}, run directory {system.RunDirectory}");
            await using var memory = MemorySection.StartSampling(system.RunDirectory);

            var tenant = await Tenant.CreateAsync(system, "LoadBench");
            var agentId = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
            var context = new BenchContext(options, system, tenant, agentId, signingKey, output);

            if (options.OpenLoop is not null)
            {
                await OpenLoopSection.RunAsync(context, memory, cancellationToken);
            }
            else
            {
                var throughput = await ThroughputSection.RunAsync(context, cancellationToken);
                await HopSection.RunAsync(context, throughput, cancellationToken);
                await MeteringLagSection.RunAsync(context, cancellationToken);
                await StreamingSection.RunAsync(context, cancellationToken);
            }

            await memory.ReportAsync(context);
            context.Targets.WriteTo(output);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Progress.Write("cancelled");
            exitCode = 130;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"The benchmark run failed: {ex}");
            exitCode = 1;
        }
        finally
        {
            Progress.Write("stopping the system");
            try
            {
                await system.DisposeAsync();
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"Stopping the system failed (run directory {system.RunDirectory}): {ex.Message}");
                exitCode = exitCode == 0 ? 1 : exitCode;
            }
        }

        return exitCode;
    }

    private static void WriteHeader(BenchOptions options, TextWriter output)
    {
        output.WriteLine("# StitchFin load benchmark");
        output.WriteLine();
        var table = new MarkdownTable("Setting", "Value");
        table.Add("Date (UTC)", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture));
        table.Add("Arguments", options.Arguments is "" ? "(defaults)" : options.Arguments);
        table.Add("Vendors", options.FastMode ? "`fast` (zero latency, no faults)" : "`default` (documented latencies and fault rates)");
        table.Add("Machine", $"{Environment.ProcessorCount} cores ({CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        table.Add("Build", BuildConfiguration == "Release" ? "Release" : "Debug (not representative: use bench/run.sh)");
        table.Add("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") ?? "unset");
        table.Add("Bench process GC", GCSettings.IsServerGC ? "server" : "workstation");
        table.Add("Edge rate limit", $"per-tenant bucket lifted to {UnlimitedTokens}/s (capacity, not the limiter, is measured)");
        table.Add("Load generator", "runs on the same machine and shares its cores with the services");
        if (options.OpenLoop is { } openLoop)
        {
            table.Add("Mode", $"open loop, {openLoop.Phases.Count} phases over {Format.Seconds(openLoop.Duration)}"
                + (openLoop.Capacity is { } capacity ? $", 100 % = {capacity:0.#} messages/s" : ""));
        }

        table.WriteTo(output);
    }

    // The CPU matters beyond its core count: workstation GC sizes its youngest generation from the largest cache.
    private static string CpuModel()
    {
        var modelLine = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))
            : null;
        return modelLine?.Split(':', 2)[1].Trim() ?? "CPU model unknown";
    }
}
