using System.Globalization;
using StitchFin.LoadBench.Reporting;

namespace StitchFin.LoadBench.Sections;

/// <summary>
/// Section 4: resident memory of every service. Samples VmRSS through the run and reads the kernel's own peak
/// (VmHWM, which also covers start-up) at the end, from /proc/&lt;pid&gt;/status of the pids in the run directory.
/// </summary>
public sealed class MemorySection : IAsyncDisposable
{
    public static readonly string[] Services = ["gateway", "tenancy", "conversation", "providers", "voice", "metering"];
    private const long TargetKilobytes = 256 * 1024;
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(250);

    private readonly string _runDirectory;
    private readonly Dictionary<string, long> _maxSampledKilobytes = Services.ToDictionary(s => s, _ => -1L);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private int _samples;

    private MemorySection(string runDirectory)
    {
        _runDirectory = runDirectory;
        _sampling = SampleAsync(_stop.Token);
    }

    public static MemorySection StartSampling(string runDirectory) => new(runDirectory);

    public async Task ReportAsync(BenchContext context)
    {
        await StopAsync();
        var table = new MemorySectionTable();
        var worst = (Service: "", Kilobytes: -1L);
        foreach (var service in Services)
        {
            var pid = ServicePid(service);
            var status = pid is { } p ? ReadStatus(p) : null;
            var peak = status?.GetValueOrDefault("VmHWM", -1) ?? -1;
            var rssAtEnd = status?.GetValueOrDefault("VmRSS", -1) ?? -1;
            table.Add(service, pid?.ToString(CultureInfo.InvariantCulture) ?? Format.None, rssAtEnd,
                Math.Max(_maxSampledKilobytes[service], rssAtEnd), peak, TargetKilobytes);
            if (peak > worst.Kilobytes)
            {
                worst = (service, peak);
            }
        }

        var output = context.Output;
        output.WriteLine("## 4. Memory (RSS) per service");
        output.WriteLine();
        output.WriteLine($"VmRSS sampled every {SampleInterval.TotalMilliseconds:0} ms during the run ({_samples} samples); peak is the "
            + "kernel's VmHWM (start-up included). MB are MiB.");
        output.WriteLine();
        table.WriteTo(output);

        var allRead = Services.All(s => ServicePid(s) is { } p && ReadStatus(p) is not null);
        context.Targets.Add("Peak RSS of every service", $"<= {TargetKilobytes / 1024} MB",
            worst.Kilobytes < 0 ? Format.None : $"{Format.Mb(worst.Kilobytes)} MB ({worst.Service})",
            allRead && worst.Kilobytes <= TargetKilobytes, allRead ? null : "a service's /proc status could not be read");
    }

    /// <summary>Each service's VmRSS now, in kB (-1 when its /proc status cannot be read).</summary>
    public IReadOnlyDictionary<string, long> CurrentRss() => Services.ToDictionary(
        service => service,
        service => ServicePid(service) is { } pid && ReadStatus(pid)?.GetValueOrDefault("VmRSS", -1) is { } rss ? rss : -1L,
        StringComparer.Ordinal);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await _sampling;
    }

    private async Task SampleAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(SampleInterval);
        try
        {
            do
            {
                foreach (var service in Services)
                {
                    if (ServicePid(service) is { } pid && ReadStatus(pid)?.GetValueOrDefault("VmRSS", -1) is > 0 and var rss)
                    {
                        _maxSampledKilobytes[service] = Math.Max(_maxSampledKilobytes[service], rss);
                    }
                }

                _samples++;
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping is the normal end of sampling.
        }
    }

    /// <summary>
    /// The pid run.sh recorded. It starts services through <c>setsid</c>, which replaces itself with dotnet unless
    /// it had to fork, so a non-dotnet process is searched for a dotnet descendant.
    /// </summary>
    private int? ServicePid(string service)
    {
        var file = Path.Combine(_runDirectory, $"{service}.pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? FindDotnet(pid, depth: 3)
            : null;
    }

    private static int? FindDotnet(int pid, int depth)
    {
        var comm = TryRead($"/proc/{pid}/comm")?.Trim();
        if (comm is null)
        {
            return null;
        }

        if (comm == "dotnet" || depth == 0)
        {
            return pid;
        }

        var children = TryRead($"/proc/{pid}/task/{pid}/children")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        foreach (var child in children)
        {
            if (int.TryParse(child, NumberStyles.None, CultureInfo.InvariantCulture, out var childPid) && FindDotnet(childPid, depth - 1) is { } found)
            {
                return found;
            }
        }

        return pid;
    }

    /// <summary>The kB fields of /proc/&lt;pid&gt;/status (VmRSS, VmHWM, ...), or null when the process is gone.</summary>
    private static Dictionary<string, long>? ReadStatus(int pid)
    {
        var text = TryRead($"/proc/{pid}/status");
        if (text is null)
        {
            return null;
        }

        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.EndsWith(" kB", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(colon + 1, line.Length - colon - 4).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kilobytes))
            {
                fields[line[..colon]] = kilobytes;
            }
        }

        return fields;
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed class MemorySectionTable
    {
        private readonly MarkdownTable _table = new("Service", "PID>", "RSS at end MB>", "Max sampled RSS MB>", "Peak RSS (VmHWM) MB>", "<= 256 MB");

        public void Add(string service, string pid, long rssKb, long maxSampledKb, long peakKb, long targetKb) =>
            _table.Add(service, pid, Format.Mb(rssKb), Format.Mb(maxSampledKb), Format.Mb(peakKb),
                peakKb < 0 ? Format.None : peakKb <= targetKb ? "PASS" : "MISS");

        public void WriteTo(TextWriter output) => _table.WriteTo(output);
    }
}
