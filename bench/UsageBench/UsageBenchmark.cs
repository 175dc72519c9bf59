using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using HdrHistogram;
using Npgsql;
using StitchFin.Testing;

namespace StitchFin.Bench;

/// <summary>
/// Latency of <c>GET /usage</c> over a large rollup table: loads N usage events for one tenant over ~400 Chicago
/// days into a fresh metering database, starts the service, and times sequential requests. Prints numbers only.
/// Usage: UsageBench [events=1000000] [requests=2000]
/// </summary>
public static class UsageBenchmark
{
    private const int Days = 400;
    private const int Seed = 20_260_101;
    private static readonly DateOnly FirstDay = new(2025, 6, 1);

    public static async Task Main(string[] args)
    {
        var events = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var requests = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;
        var tenant = new Guid("0b5e1a7e-0000-4000-8000-000000000001");
        var lastDay = FirstDay.AddDays(Days - 1);

        // WebApplicationFactory finds the service's content root through a manifest it looks for in the working directory.
        Directory.SetCurrentDirectory(AppContext.BaseDirectory);
        Console.WriteLine($"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        await using var infrastructure = await TestInfrastructure.StartAsync("usagebench");
        await using var server = new MeteringServer(infrastructure.Configuration);
        server.StartServer();
        using var client = server.CreateSignedClient(tenant, TestInfrastructure.SigningKey);
        await WaitUntilReadyAsync(client);
        Console.WriteLine($"metering listening on {server.BaseAddress}");

        var loader = new UsageLoader(infrastructure.PostgresConnectionString, tenant, FirstDay, Days);
        Console.WriteLine($"loading {events:N0} events over {Days} days ({FirstDay:yyyy-MM-dd}..{lastDay:yyyy-MM-dd}) through UsageRollupSql.RecordOnce, batched");
        var loadTime = await loader.LoadAsync(loader.Generate(events, Seed));
        Console.WriteLine($"loaded in {loadTime.TotalSeconds:F1} s ({events / loadTime.TotalSeconds:N0} events/s); {await RollupRowsAsync(infrastructure.PostgresConnectionString):N0} rollup rows");

        var ranges = new (string Name, DateOnly From, DateOnly To)[]
        {
            ("366 days", lastDay.AddDays(-365), lastDay),
            ("31 days", lastDay.AddDays(-30), lastDay),
        };
        Console.WriteLine();
        Console.WriteLine($"| range | requests | p50 ms | p90 ms | p99 ms | max ms | messages in range | response bytes |");
        Console.WriteLine($"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (name, from, to) in ranges)
        {
            var path = $"/usage?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}";
            var (messages, bytes) = await ProbeAsync(client, path);
            await MeasureAsync(client, path, Math.Min(200, requests));
            var histogram = await MeasureAsync(client, path, requests);
            Console.WriteLine($"| {name} | {requests:N0} | {Ms(histogram.GetValueAtPercentile(50))} | {Ms(histogram.GetValueAtPercentile(90))} | " +
                $"{Ms(histogram.GetValueAtPercentile(99))} | {Ms(histogram.GetMaxValue())} | {messages:N0} | {bytes:N0} |");
        }
    }

    private static async Task<LongHistogram> MeasureAsync(HttpClient client, string path, int requests)
    {
        var histogram = new LongHistogram(TimeStamp.Minutes(1), 3);
        for (var i = 0; i < requests; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseContentRead);
            histogram.RecordValue(Stopwatch.GetTimestamp() - started);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Console.WriteLine($"  request {i} answered {(int)response.StatusCode}");
            }
        }

        return histogram;
    }

    private static async Task<(long Messages, int Bytes)> ProbeAsync(HttpClient client, string path)
    {
        var body = await client.GetByteArrayAsync(path);
        using var json = JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("totals").GetProperty("messages").GetInt64(), body.Length);
    }

    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            using var response = await client.GetAsync("/health/ready");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("metering never became ready");
    }

    private static async Task<long> RollupRowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM usage_rollups", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string Ms(long stopwatchTicks) =>
        (stopwatchTicks * 1000.0 / Stopwatch.Frequency).ToString("F2", CultureInfo.InvariantCulture);
}
