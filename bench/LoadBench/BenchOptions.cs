using System.Globalization;

namespace StitchFin.LoadBench;

/// <summary>Command-line settings; <c>--quick</c> shortens every section, explicit values still win.</summary>
public sealed record BenchOptions(
    int Clients,
    TimeSpan Duration,
    TimeSpan Warmup,
    string VendorMode,
    TimeSpan HopDuration,
    int Rounds,
    int MessagesPerSession,
    int MeteringRate,
    TimeSpan MeteringDuration,
    bool Quick)
{
    public const string FastVendors = "fast";
    public const string DefaultVendors = "default";

    public const string Usage = """
        usage: LoadBench [options]
          --clients N               concurrent clients for the throughput run and the N-connection hops (32)
          --duration S              seconds of measured throughput load, after the warm-up (20)
          --warmup S                seconds of unmeasured load before the throughput run (5)
          --mode fast|default       simulated vendors: zero-latency and fault-free, or their default faults (fast)
          --hop-duration S          seconds per hop measurement (direct, bare YARP, edge), split over the rounds (10)
          --rounds R                interleaved rounds per hop comparison (3)
          --messages-per-session M  messages a client sends before it opens a new session (10)
          --metering-rate R         messages per second for the metering-lag run (200)
          --metering-duration S     seconds of the metering-lag run (30)
          --quick                   every section briefly (5 s, 2 s warm-up, one round) for smoke tests
          --help
        """;

    /// <summary>The command line as given (empty for the defaults), for the report's header.</summary>
    public string Arguments { get; init; } = "";

    public bool FastMode => VendorMode == FastVendors;

    public static bool TryParse(string[] args, out BenchOptions? options, out string? problem)
    {
        options = null;
        problem = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var quick = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    return false;
                case "--quick":
                    quick = true;
                    break;
                case "--clients" or "--duration" or "--warmup" or "--mode" or "--hop-duration" or "--rounds"
                    or "--messages-per-session" or "--metering-rate" or "--metering-duration":
                    if (i + 1 >= args.Length)
                    {
                        problem = $"{args[i]} needs a value.";
                        return false;
                    }

                    values[args[i]] = args[++i];
                    break;
                default:
                    problem = $"Unknown argument '{args[i]}'.";
                    return false;
            }
        }

        var mode = values.GetValueOrDefault("--mode", FastVendors).ToLowerInvariant();
        if (mode is not (FastVendors or DefaultVendors))
        {
            problem = $"--mode must be '{FastVendors}' or '{DefaultVendors}', not '{mode}'.";
            return false;
        }

        var parsed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, text) in values.Where(v => v.Key != "--mode"))
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
            {
                problem = $"{name} must be a whole number of at least 1, not '{text}'.";
                return false;
            }

            parsed[name] = number;
        }

        int Value(string name, int normal, int whenQuick) => parsed.GetValueOrDefault(name, quick ? whenQuick : normal);

        options = new BenchOptions(
            Clients: Value("--clients", 32, 32),
            Duration: TimeSpan.FromSeconds(Value("--duration", 20, 5)),
            Warmup: TimeSpan.FromSeconds(Value("--warmup", 5, 2)),
            VendorMode: mode,
            HopDuration: TimeSpan.FromSeconds(Value("--hop-duration", 10, 5)),
            Rounds: Value("--rounds", 3, 1),
            MessagesPerSession: Value("--messages-per-session", 10, 10),
            MeteringRate: Value("--metering-rate", 200, 200),
            MeteringDuration: TimeSpan.FromSeconds(Value("--metering-duration", 30, 5)),
            Quick: quick)
        {
            Arguments = string.Join(' ', args),
        };
        return true;
    }
}
