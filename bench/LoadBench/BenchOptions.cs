using System.Globalization;
using StitchFin.LoadBench.Load;

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

        open-loop mode (instead of the sections above: messages at fixed rates, phase after phase):
          --open-loop               run the open-loop phases (after --warmup seconds at the first one's rate), then
                                    report memory
          --phases LIST             comma-separated RATE:DURATION, RATE a percentage of --capacity (50%) or
                                    messages per second (120/s); DURATION like 60s, 500ms, 2m (50%:60s,200%:60s,25%:60s)
          --capacity R              messages per second that 100% means (needed by percentage rates)
          --interval D              length of a reported interval (5s)
          --request-timeout D       a message not answered this long after it was sent is a timeout (10s)
          --max-in-flight N         most messages waiting for an answer; one due beyond it is 'not sent' (10000)
          --sessions N              sessions the messages are spread over, opened before the first phase (100)
          --help
        """;

    /// <summary>The command line as given (empty for the defaults), for the report's header.</summary>
    public string Arguments { get; init; } = "";

    public bool FastMode => VendorMode == FastVendors;

    /// <summary>Set by <c>--open-loop</c>: run the open-loop phases instead of sections 1-3 and 5.</summary>
    public OpenLoopOptions? OpenLoop { get; init; }

    private static readonly string[] OpenLoopValues = ["--phases", "--capacity", "--interval", "--request-timeout", "--max-in-flight", "--sessions"];

    public static bool TryParse(string[] args, out BenchOptions? options, out string? problem)
    {
        options = null;
        problem = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var quick = false;
        var openLoop = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    return false;
                case "--quick":
                    quick = true;
                    break;
                case "--open-loop":
                    openLoop = true;
                    break;
                case "--phases" or "--capacity" or "--interval" or "--request-timeout" or "--max-in-flight" or "--sessions"
                    or "--clients" or "--duration" or "--warmup" or "--mode" or "--hop-duration" or "--rounds"
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

        OpenLoopOptions? openLoopOptions = null;
        if (!openLoop && values.Keys.FirstOrDefault(OpenLoopValues.Contains) is { } stray)
        {
            problem = $"{stray} applies only with --open-loop.";
            return false;
        }

        if (openLoop && !OpenLoopOptions.TryParse(values, out openLoopOptions, out problem))
        {
            return false;
        }

        var parsed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, text) in values.Where(v => v.Key != "--mode" && !OpenLoopValues.Contains(v.Key)))
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
            OpenLoop = openLoopOptions,
        };
        return true;
    }
}

/// <summary>The open-loop mode's settings: its phases (rates resolved to messages per second) and how it sends and reports.</summary>
public sealed record OpenLoopOptions(IReadOnlyList<LoadPhase> Phases, double? Capacity, OpenLoopSettings Settings, int Sessions)
{
    public const string DefaultPhases = "50%:60s,200%:60s,25%:60s";

    public TimeSpan Duration => TimeSpan.FromTicks(Phases.Sum(p => p.Duration.Ticks));

    public static bool TryParse(IReadOnlyDictionary<string, string> values, out OpenLoopOptions? options, out string? problem)
    {
        options = null;
        problem = null;
        double? capacity = null;
        if (values.TryGetValue("--capacity", out var capacityText))
        {
            if (!TryParseRate(capacityText, out var c))
            {
                problem = $"--capacity must be a number of messages per second above 0 (e.g. 390), not '{capacityText}'.";
                return false;
            }

            capacity = c;
        }

        if (!TryParseDuration("--interval", values.GetValueOrDefault("--interval", "5s"), out var interval, out problem)
            || !TryParseDuration("--request-timeout", values.GetValueOrDefault("--request-timeout", "10s"), out var requestTimeout, out problem)
            || !TryParseCount("--max-in-flight", values.GetValueOrDefault("--max-in-flight", "10000"), out var maxInFlight, out problem)
            || !TryParseCount("--sessions", values.GetValueOrDefault("--sessions", "100"), out var sessions, out problem))
        {
            return false;
        }

        var phasesText = values.GetValueOrDefault("--phases", DefaultPhases);
        var phases = new List<LoadPhase>();
        foreach (var item in phasesText.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':', StringSplitOptions.TrimEntries);
            if (parts.Length != 2)
            {
                problem = $"--phases: '{item}' is not RATE:DURATION (e.g. 50%:60s or 120/s:30s).";
                return false;
            }

            double rate;
            string label;
            if (parts[0].EndsWith('%'))
            {
                if (!TryParseRate(parts[0][..^1], out var percent))
                {
                    problem = $"--phases: '{parts[0]}' is not a percentage above 0.";
                    return false;
                }

                if (capacity is not { } capacityRate)
                {
                    problem = $"--phases: '{item}' is a percentage of the capacity; give it with --capacity R (messages per second, e.g. the rate section 1 measures).";
                    return false;
                }

                rate = capacityRate * percent / 100;
                label = $"{percent.ToString(CultureInfo.InvariantCulture)} %";
            }
            else
            {
                var text = parts[0].EndsWith("/s", StringComparison.Ordinal) ? parts[0][..^2] : parts[0];
                if (!TryParseRate(text, out rate))
                {
                    problem = $"--phases: '{parts[0]}' is neither a percentage (50%) nor a rate above 0 (120/s).";
                    return false;
                }

                label = $"{rate.ToString(CultureInfo.InvariantCulture)}/s";
            }

            if (!TryParseDuration("--phases", parts[1], out var duration, out problem))
            {
                return false;
            }

            if (rate * duration.TotalSeconds < 1)
            {
                problem = $"--phases: '{item}' sends no message (rate × duration is under 1).";
                return false;
            }

            phases.Add(new LoadPhase(label, rate, duration));
        }

        options = new OpenLoopOptions(phases, capacity, new OpenLoopSettings(interval, requestTimeout, maxInFlight), sessions);
        return true;
    }

    private static bool TryParseRate(string text, out double rate) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out rate) && rate > 0 && double.IsFinite(rate);

    private static bool TryParseCount(string name, string text, out int count, out string? problem)
    {
        problem = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count >= 1
            ? null
            : $"{name} must be a whole number of at least 1, not '{text}'.";
        return problem is null;
    }

    /// <summary>A duration with a unit (<c>500ms</c>, <c>60s</c>, <c>2m</c>) or a plain number of seconds; above 0.</summary>
    public static bool TryParseDuration(string name, string text, out TimeSpan duration, out string? problem)
    {
        duration = TimeSpan.Zero;
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };
        if (double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value > 0 && value * scale <= 86_400)
        {
            duration = TimeSpan.FromTicks((long)Math.Round(value * scale * TimeSpan.TicksPerSecond));
            if (duration > TimeSpan.Zero)
            {
                problem = null;
                return true;
            }
        }

        problem = $"{name}: '{text}' is not a duration above 0 (e.g. 500ms, 60s, 2m; at most a day).";
        return false;
    }
}
