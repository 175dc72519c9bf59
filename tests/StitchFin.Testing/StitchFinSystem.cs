using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using StitchFin.Testing.Upstream;
using Xunit;

namespace StitchFin.Testing;

/// <summary>
/// The whole system as real processes, started by the README's run script in an isolated copy: its own
/// ports, databases, RabbitMQ virtual host and run directory, so it can run beside a developer's system and
/// beside other test projects. Single services can be stopped, killed, paused and started again; a system with a
/// dedicated broker or database can lose those too.
/// </summary>
public sealed class StitchFinSystem : IAsyncLifetime
{
    public const string AdminKey = "e2e-admin-key-0123456789-5d2b8f4a1c7e9036";
    private static readonly string[] Services = ["gateway", "tenancy", "conversation", "providers", "voice", "metering"];

    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private readonly Dictionary<string, int> _ports = [];
    private readonly Dictionary<string, string> _overrides;
    private readonly bool _dedicatedBroker;
    private readonly bool _dedicatedDatabase;
    private DedicatedRabbitMq? _broker;
    private DedicatedPostgres? _database;
    private OtlpTraceReceiver? _traces;

    /// <summary>The provider entry the end-to-end system sends to <see cref="Upstream"/>: an <c>openai-compatible</c> provider.</summary>
    public const string UpstreamProvider = "Upstream";

    /// <summary>The key that provider entry holds; the upstream refuses any other.</summary>
    public const string UpstreamApiKey = "sk-e2e-upstream-key-0123456789";

    /// <summary>A provider entry of kind <c>anthropic</c> on the same <see cref="Upstream"/>: it is asked in Anthropic's Messages API.</summary>
    public const string UpstreamAnthropicProvider = "UpstreamAnthropic";

    /// <summary>A provider entry of kind <c>openai-responses</c> on the same <see cref="Upstream"/>: it is asked in OpenAI's Responses API.</summary>
    public const string UpstreamResponsesProvider = "UpstreamResponses";

    public StitchFinSystem() : this(EndToEndDefaults.Configuration, dedicatedBroker: false, dedicatedDatabase: false, tracing: true, upstream: true)
    {
    }

    /// <param name="configurationOverrides">ASP.NET configuration (Section__Key) for every service.</param>
    /// <param name="dedicatedBroker">Run on a RabbitMQ node of its own, which <see cref="Broker"/> can stop and kill.</param>
    /// <param name="dedicatedDatabase">Run on a PostgreSQL server of its own, which <see cref="Database"/> can stop and kill.</param>
    /// <param name="tracing">Export every service's telemetry over OTLP to <see cref="Traces"/>.</param>
    /// <param name="upstream">
    /// Start a <see cref="FaultyUpstream"/> and configure it as the <see cref="UpstreamProvider"/> provider, and as
    /// <see cref="UpstreamAnthropicProvider"/> and <see cref="UpstreamResponsesProvider"/>.
    /// </param>
    private StitchFinSystem(IDictionary<string, string> configurationOverrides, bool dedicatedBroker, bool dedicatedDatabase, bool tracing, bool upstream)
    {
        _overrides = new Dictionary<string, string>(configurationOverrides);
        _dedicatedBroker = dedicatedBroker;
        _dedicatedDatabase = dedicatedDatabase;
        _tracing = tracing;
        _withUpstream = upstream;
        RunDirectory = Path.Combine(RepositoryRoot.Path, ".local", $"e2e-{_id}");
    }

    private readonly bool _tracing;
    private readonly bool _withUpstream;
    private FaultyUpstream? _upstream;

    /// <summary>
    /// A real upstream in this process (chat completions, Responses, Anthropic Messages) that the system's
    /// <see cref="UpstreamProvider"/>, <see cref="UpstreamAnthropicProvider"/> and <see cref="UpstreamResponsesProvider"/> call.
    /// </summary>
    public FaultyUpstream Upstream => _upstream ?? throw new InvalidOperationException("This system was started without an upstream.");

    public OtlpTraceReceiver Traces => _traces ?? throw new InvalidOperationException("This system was started without tracing.");

    /// <summary>A system with its own settings (xunit needs the fixture's single public constructor to be parameterless).</summary>
    public static StitchFinSystem Create(
        IDictionary<string, string> configurationOverrides, bool dedicatedBroker = false, bool tracing = false, bool upstream = false, bool dedicatedDatabase = false) =>
        new(configurationOverrides, dedicatedBroker, dedicatedDatabase, tracing, upstream);

    public DedicatedRabbitMq Broker => _broker ?? throw new InvalidOperationException("This system shares the local broker.");

    public DedicatedPostgres Database => _database ?? throw new InvalidOperationException("This system shares the local PostgreSQL.");

    public string RunDirectory { get; }

    public Uri EdgeUrl => new($"http://127.0.0.1:{_ports["gateway"]}/");

    public Uri ServiceUrl(string service) => new($"http://127.0.0.1:{_ports[service]}/");

    public string DatabasePrefix => $"e2e_{_id}";

    /// <summary>A connection string for one service's database, on whichever server this system runs on.</summary>
    public string DatabaseConnectionString(string service) =>
        _database?.ConnectionString($"{DatabasePrefix}_{service}") ?? LocalInfrastructure.FromEnvironment().ConnectionString($"{DatabasePrefix}_{service}");

    public string VirtualHost => $"e2e-{_id}";

    public HttpClient CreateClient(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = EdgeUrl, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }

        return client;
    }

    public async Task InitializeAsync()
    {
        var ports = FreePorts(Services.Length);
        for (var i = 0; i < Services.Length; i++)
        {
            _ports[Services[i]] = ports[i];
        }

        if (_dedicatedBroker)
        {
            _broker = await DedicatedRabbitMq.StartAsync($"e2e{_id}");
        }

        if (_dedicatedDatabase)
        {
            _database = await DedicatedPostgres.StartAsync($"e2e{_id}");
        }

        if (_withUpstream)
        {
            _upstream = await FaultyUpstream.StartAsync(UpstreamApiKey);
            foreach (var (key, value) in EndToEndDefaults.UpstreamProvider(UpstreamProvider, _upstream.BaseUrl, UpstreamApiKey)
                .Concat(EndToEndDefaults.UpstreamProvider(UpstreamAnthropicProvider, _upstream.BaseUrl, UpstreamApiKey, "anthropic"))
                .Concat(EndToEndDefaults.UpstreamProvider(UpstreamResponsesProvider, _upstream.BaseUrl, UpstreamApiKey, "openai-responses")))
            {
                _overrides.TryAdd(key, value);
            }
        }

        if (_tracing)
        {
            _traces = await OtlpTraceReceiver.StartAsync();
            _overrides["OTEL_EXPORTER_OTLP_ENDPOINT"] = _traces.Endpoint.ToString().TrimEnd('/');
            _overrides["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            _overrides["OTEL_BSP_SCHEDULE_DELAY"] = "200";
            // Every database call is a span; under a test suite's load the default queue (2,048) drops some.
            _overrides["OTEL_BSP_MAX_QUEUE_SIZE"] = "200000";
            _overrides["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"] = "4096";
        }

        await RunScriptAsync(["up", "--detach"], TimeSpan.FromMinutes(4));
    }

    public async Task DisposeAsync()
    {
        await RunScriptAsync(["down"], TimeSpan.FromMinutes(1));
        var local = LocalInfrastructure.FromEnvironment();
        if (_database is not null)
        {
            // The server and its data go as a whole.
            await _database.DisposeAsync();
        }
        else
        {
            foreach (var service in new[] { "tenancy", "conversation", "metering" })
            {
                await local.DropDatabaseAsync($"{DatabasePrefix}_{service}");
            }
        }

        if (_traces is not null)
        {
            await _traces.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
        else
        {
            await local.DeleteVirtualHostAsync(VirtualHost);
        }
    }

    /// <summary>Restarts one service with extra configuration (kept for later restarts of any service).</summary>
    public async Task RestartWithAsync(string service, IReadOnlyDictionary<string, string> configuration)
    {
        var path = Path.Combine(RunDirectory, "overrides.env");
        var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : [];
        foreach (var (key, value) in configuration)
        {
            lines.RemoveAll(line => line.StartsWith($"{key}=", StringComparison.Ordinal));
            lines.Add($"{key}={value}");
        }

        await File.WriteAllLinesAsync(path, lines);
        await RunScriptAsync(["restart", service], TimeSpan.FromMinutes(2));
    }

    public Task StopAsync(string service) => RunScriptAsync(["stop", service], TimeSpan.FromMinutes(1));

    /// <summary>SIGKILLs one service through <c>./run.sh kill</c>: a crash staged on request, so run.sh leaves it down until <see cref="StartAsync"/>.</summary>
    public Task KillAsync(string service) => RunScriptAsync(["kill", service], TimeSpan.FromMinutes(1));

    public Task StartAsync(string service) => RunScriptAsync(["start", service], TimeSpan.FromMinutes(2));

    /// <summary>Freezes one service (SIGSTOP): its connections stay open and nothing on them is answered.</summary>
    public Task PauseAsync(string service) => RunScriptAsync(["pause", service], TimeSpan.FromMinutes(1));

    /// <summary>Lets a paused service go on (SIGCONT).</summary>
    public Task ResumeAsync(string service) => RunScriptAsync(["resume", service], TimeSpan.FromMinutes(1));

    /// <summary>What <c>./run.sh status</c> prints: each service's state, pid and restart count.</summary>
    public Task<string> StatusAsync() => RunScriptAsync(["status"], TimeSpan.FromMinutes(1));

    /// <summary>The process id run.sh has on record for a service, or null while it has none (stopped, or being restarted).</summary>
    public int? ProcessId(string service)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(RunDirectory, $"{service}.pid")).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Every line the services have logged so far.</summary>
    public IEnumerable<string> LogLines() =>
        Directory.EnumerateFiles(RunDirectory, "*.log").SelectMany(File.ReadLines);

    /// <summary>Runs run.sh with these arguments in this system's run directory; returns what it printed on its standard output.</summary>
    private async Task<string> RunScriptAsync(string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot.Path, "run.sh"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot.Path,
        };
        start.Environment["STITCHFIN_RUN_DIR"] = RunDirectory;
        start.Environment["STITCHFIN_SKIP_BUILD"] = "1";
        start.Environment["STITCHFIN_CONFIGURATION"] = BuildConfiguration;
        start.Environment["STITCHFIN_DB_PREFIX"] = DatabasePrefix;
        start.Environment["STITCHFIN_RABBITMQ_VHOST"] = VirtualHost;
        // Every secret given: run.sh then neither reads nor generates the developer's .local/secrets.env.
        start.Environment["STITCHFIN_ADMIN_KEY"] = AdminKey;
        start.Environment["STITCHFIN_IDENTITY_SIGNING_KEY"] = TestInfrastructure.SigningKey;
        start.Environment["STITCHFIN_KEY_PEPPER"] = TestInfrastructure.TestPepper;
        start.Environment["STITCHFIN_EDGE_PORT"] = Port("gateway");
        start.Environment["STITCHFIN_TENANCY_PORT"] = Port("tenancy");
        start.Environment["STITCHFIN_CONVERSATION_PORT"] = Port("conversation");
        start.Environment["STITCHFIN_PROVIDERS_PORT"] = Port("providers");
        start.Environment["STITCHFIN_VOICE_PORT"] = Port("voice");
        start.Environment["STITCHFIN_METERING_PORT"] = Port("metering");
        if (_broker is not null)
        {
            start.Environment["STITCHFIN_SKIP_INFRA"] = "1";
            start.Environment["STITCHFIN_RABBITMQ_PORT"] = _broker.Port.ToString(CultureInfo.InvariantCulture);
        }

        if (_database is not null)
        {
            start.Environment["STITCHFIN_SKIP_INFRA"] = "1";
            start.Environment["STITCHFIN_PG_PORT"] = _database.Port.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in _overrides)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"run.sh {string.Join(' ', arguments)} did not finish in {timeout}: {await errors}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"run.sh {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await errors}");
        }

        return await output;
    }

    private string Port(string service) => _ports[service].ToString(CultureInfo.InvariantCulture);

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ =>
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return listener;
        }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
