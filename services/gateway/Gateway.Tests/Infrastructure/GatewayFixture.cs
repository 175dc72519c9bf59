using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StitchFin.Gateway.ApiKeys;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Testing;

namespace StitchFin.Gateway.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

/// <summary>
/// Real RabbitMQ (a fresh virtual host), the fake backend behind every cluster, a test bus, and the gateway with
/// a fake clock (cache lifetimes and usage reports move only when a test advances it).
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key-3f9c1d7e5b-a84e02c6d1f7b935";
    public const string AllowedOrigin = "http://dashboard.test";
    public static readonly string[] Clusters = ["tenancy", "conversation", "providers", "voice", "metering"];

    private TestInfrastructure? _infrastructure;

    public FakeBackend Backend { get; private set; } = null!;

    public TestBus Bus { get; private set; } = null!;

    public GatewayFactory Gateway { get; private set; } = null!;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public RabbitMqEndpoint RabbitMq => _infrastructure!.RabbitMq;

    public InternalIdentitySigner Signer => Gateway.Services.GetRequiredService<InternalIdentitySigner>();

    /// <summary>The services the edge's clusters reach; one fake backend stands in for all of them here.</summary>
    public static readonly string[] Audiences = ["tenancy", "conversation", "providers", "voice", "metering"];

    /// <summary>Verifies the identity the edge forwarded with <paramref name="echo"/>, signed for its method and path.</summary>
    public bool TryVerifyForwarded(EchoedRequest echo, out InternalIdentity? identity, out string failure) =>
        TryVerifyFor(echo.Headers["X-StitchFin-Identity"], echo.Method, echo.Path, out identity, out failure);

    public bool TryVerifyFor(string header, string method, string path, out InternalIdentity? identity, out string failure)
    {
        var reason = IdentityFailure.None;
        foreach (var audience in Audiences)
        {
            if (Signer.TryVerify(header, new InternalCall(audience, method, path), out identity, out reason))
            {
                failure = "";
                return true;
            }
        }

        identity = null;
        failure = reason.ToString();
        return false;
    }

    public ApiKeyVerifier Verifier => Gateway.Services.GetRequiredService<ApiKeyVerifier>();

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync("gateway");
        Backend = await FakeBackend.StartAsync();
        Gateway = CreateGateway(new Dictionary<string, string?>(), services => services.AddSingleton<TimeProvider>(Time));
        Bus = await TestBus.StartAsync(_infrastructure.RabbitMq);
        await WaitUntilReadyAsync(Gateway.CreateClient());
    }

    /// <summary>Another gateway on the same broker and backend, with settings changed (limits, dashboard, clusters).</summary>
    public GatewayFactory CreateGateway(IDictionary<string, string?> overrides, Action<IServiceCollection>? replaceServices = null)
    {
        var configuration = _infrastructure!.Configuration;
        configuration["Services:Tenancy"] = Backend.Address;
        foreach (var cluster in Clusters)
        {
            configuration[$"ReverseProxy:Clusters:{cluster}:Destinations:primary:Address"] = Backend.Address;
        }

        configuration["Edge:AdminKey"] = AdminKey;
        configuration["Edge:Cors:Origins:0"] = AllowedOrigin;
        // A dashboard built into the repository must not change what these tests see.
        configuration["Edge:DashboardPath"] = Path.Combine(Path.GetTempPath(), "stitchfin-no-dashboard-" + Guid.NewGuid().ToString("N"));
        configuration["Logging:Capture:LogLevel:Default"] = "Trace";
        // Every test client shares one address; the budget of wrong keys is tested on a gateway of its own.
        configuration["Edge:FailedAuthentication:TokenLimit"] = "1000000";
        // Its clock is a fake one that tests move; readiness is cached only where a test says so.
        configuration["Edge:ReadinessCacheDuration"] = "00:00:00";
        foreach (var (key, value) in overrides)
        {
            configuration[key] = value;
        }

        var factory = new GatewayFactory(configuration, replaceServices);
        _ = factory.Server;
        return factory;
    }

    public static string ClosedPortAddress() => $"http://127.0.0.1:{ClosedPort()}/";

    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Moves the clock the way time passes with the broker up: the edge keeps hearing the probes it sends itself, so
    /// this returns once it has heard one sent at the new time.
    /// </summary>
    public Task AdvanceWithBusUpAsync(TimeSpan by) => AdvanceWithBusUpAsync(Gateway, Time, by);

    public static async Task AdvanceWithBusUpAsync(GatewayFactory gateway, FakeTimeProvider clock, TimeSpan by)
    {
        clock.Advance(by);
        var now = clock.GetUtcNow();
        var revocations = gateway.Services.GetRequiredService<RevocationFeed>();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (revocations.UpToDateAsOf < now)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"The gateway heard no probe sent at {now:O}; the last was sent at {revocations.UpToDateAsOf:O}.");
            }

            await Task.Delay(10);
        }
    }

    public HttpClient ClientWithKey(string apiKey, GatewayFactory? gateway = null)
    {
        var client = (gateway ?? Gateway).CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        return client;
    }

    public async Task DisposeAsync()
    {
        await Bus.DisposeAsync();
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }

    /// <summary>
    /// The bus connects in the background; revocations reach the edge only once its endpoint is bound. The edge is
    /// ready without its bus (status <c>degraded</c>), so this waits for <c>ok</c>: ready and connected.
    /// </summary>
    public static async Task WaitUntilReadyAsync(HttpClient client)
    {
        string body = "";
        for (var attempt = 0; attempt < 120; attempt++)
        {
            using var response = await client.GetAsync("/health/ready");
            body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && StatusOf(body) == "ok")
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new InvalidOperationException("The gateway did not become ready: " + body);
    }

    private static string? StatusOf(string readiness)
    {
        using var json = JsonDocument.Parse(readiness);
        return json.RootElement.GetProperty("status").GetString();
    }

    public static async Task<EchoedRequest> ReadEchoAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var echo = (await response.Content.ReadFromJsonAsync<EchoedRequest>())!;
        // Header names are case-insensitive; HttpClient canonicalises some (X-Request-ID).
        return echo with { Headers = new Dictionary<string, string>(echo.Headers, StringComparer.OrdinalIgnoreCase) };
    }
}
