using System.Net;
using System.Net.Http.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Tests.Support;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Providers.Tests;

public sealed class ReliabilityTests
{
    private const int Completions = 5_000;

    [Fact]
    public async Task With_default_fault_rates_and_zero_latency_completions_succeed_at_least_999_in_1000()
    {
        // Default error rates and resilience settings; only the latency sets are zeroed, and the seeds fixed.
        await using var factory = new ProvidersFactory(new Dictionary<string, string?>
        {
            ["Vendors:VendorA:LatenciesMs:0"] = "0",
            ["Vendors:VendorB:LatenciesMs:0"] = "0",
            ["Vendors:VendorA:Seed"] = "1001",
            ["Vendors:VendorB:Seed"] = "1002",
            ["Resilience:JitterSeed"] = "1003",
        });
        var client = factory.CreateClientFor(Guid.NewGuid());
        var request = new CompletionRequest(ProviderNames.VendorA, ProviderNames.VendorB, "You are helpful.", "What is the capital of France?");

        var succeeded = 0;
        var vendorFaults = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, Completions), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (_, ct) =>
        {
            using var response = await client.PostAsJsonAsync("/internal/completions", request, ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var result = (await response.Content.ReadFromJsonAsync<CompletionResult>(JsonDefaults.JsonOptions, ct))!;
                Interlocked.Increment(ref succeeded);
                Interlocked.Add(ref vendorFaults, result.Attempts.Count(a => a.Outcome != AttemptOutcomes.Ok));
            }
            else
            {
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            }
        });

        Assert.True(succeeded >= Completions * 0.999, $"{succeeded} of {Completions} succeeded");
        // The faults were real: about one VendorA call in ten failed and was retried.
        Assert.InRange(vendorFaults, Completions / 20, Completions / 5);
    }
}
