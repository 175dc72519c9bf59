using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Tests.Support;
using StitchFin.Providers.Vendors;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Providers.Tests;

public sealed class CompletionsApiTests
{
    private static readonly CompletionRequest Hello = new(ProviderNames.VendorA, ProviderNames.VendorB, "Be brief.", "Hello, what can you do?");

    [Fact]
    public async Task Completion_through_the_vendor_over_http()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?> { ["Vendors:Mode"] = "fast" });

        using var response = await factory.CreateClientFor(Guid.NewGuid()).PostAsJsonAsync("/internal/completions", Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<CompletionResult>(JsonDefaults.JsonOptions))!;
        Assert.Equal(ProviderNames.VendorA, result.Provider);
        Assert.False(result.FallbackUsed);
        Assert.Equal("[VendorA] Hello, what can you do? ...", result.Text);
        Assert.Equal(VendorSimulator.TokensIn("Be brief.", "Hello, what can you do?"), result.TokensIn);
        Assert.InRange(result.TokensOut, 30, 120);
        var attempt = Assert.Single(result.Attempts);
        Assert.Equal((ProviderNames.VendorA, AttemptOutcomes.Ok, (int?)200), (attempt.Provider, attempt.Outcome, attempt.Status));
    }

    [Fact]
    public async Task Failing_primary_falls_back_to_the_other_vendor()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?>
        {
            ["Vendors:Mode"] = "fast",
            ["Vendors:VendorA:Mode"] = "failing",
            ["Resilience:RetryBaseDelayMs"] = "1",
            ["Resilience:RetryMaxDelayMs"] = "5",
        });

        using var response = await factory.CreateClientFor(Guid.NewGuid()).PostAsJsonAsync("/internal/completions", Hello);

        var result = (await response.Content.ReadFromJsonAsync<CompletionResult>(JsonDefaults.JsonOptions))!;
        Assert.True(result.FallbackUsed);
        Assert.Equal("[VendorB] Hello, what can you do? ...", result.Text);
        Assert.Equal(
            [(ProviderNames.VendorA, AttemptOutcomes.Error, (int?)500), (ProviderNames.VendorA, AttemptOutcomes.Error, 500),
             (ProviderNames.VendorA, AttemptOutcomes.Error, 500), (ProviderNames.VendorB, AttemptOutcomes.Ok, 200)],
            result.Attempts.Select(a => (a.Provider, a.Outcome, a.Status)));
    }

    [Fact]
    public async Task Both_vendors_failing_is_a_502_problem_with_every_attempt()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?>
        {
            ["Vendors:Mode"] = "failing",
            ["Vendors:VendorB:RetryAfterMs:0"] = "20",
            ["Resilience:RetryBaseDelayMs"] = "1",
            ["Resilience:RetryMaxDelayMs"] = "5",
        });

        using var response = await factory.CreateClientFor(Guid.NewGuid()).PostAsJsonAsync("/internal/completions", Hello);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var failure = (await response.Content.ReadFromJsonAsync<CompletionFailed>(JsonDefaults.JsonOptions))!;
        Assert.Equal(
            [AttemptOutcomes.Error, AttemptOutcomes.Error, AttemptOutcomes.Error, AttemptOutcomes.RateLimited, AttemptOutcomes.RateLimited, AttemptOutcomes.RateLimited],
            failure.Attempts.Select(a => a.Outcome));
        Assert.Equal([500, 500, 500, 429, 429, 429], failure.Attempts.Select(a => a.Status ?? 0));
        Assert.False(string.IsNullOrEmpty(failure.Detail));
    }

    [Theory]
    [InlineData("VendorZ", "VendorB", "Hi", "primaryProvider")]
    [InlineData("", null, "Hi", "primaryProvider")]
    [InlineData("VendorA", "VendorA", "Hi", "fallbackProvider")]
    [InlineData("VendorA", "vendorb", "Hi", "fallbackProvider")]
    [InlineData("VendorA", null, "", "userContent")]
    public async Task Invalid_requests_are_400_validation_problems(string primary, string? fallback, string content, string field)
    {
        await using var factory = new ProvidersFactory();

        using var response = await factory.CreateClientFor(Guid.NewGuid())
            .PostAsJsonAsync("/internal/completions", new CompletionRequest(primary, fallback, "", content));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), json.RootElement.ToString());
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        await using var factory = new ProvidersFactory();

        using var response = await factory.CreateClientFor(Guid.NewGuid())
            .PostAsync("/internal/completions", new StringContent("{\"primaryProvider\":", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Unsigned_completion_request_is_401()
    {
        await using var factory = new ProvidersFactory();

        using var response = await factory.CreateClient().PostAsJsonAsync("/internal/completions", Hello);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Providers_are_listed_with_their_circuit_state()
    {
        await using var factory = new ProvidersFactory();

        var providers = await factory.CreateClientFor(Guid.NewGuid())
            .GetFromJsonAsync<ProviderStatus[]>("/internal/providers", JsonDefaults.JsonOptions);

        Assert.Equal([new ProviderStatus("VendorA", "closed"), new ProviderStatus("VendorB", "closed")], providers!);
    }

    [Fact]
    public async Task Vendor_endpoints_answer_anonymously_like_a_third_party_api()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?> { ["Vendors:Mode"] = "fast" });
        var client = factory.CreateClient();
        var body = new VendorCompletionRequest("sys", "Tell me a joke", null, null);

        using var ok = await client.PostAsJsonAsync("/vendors/vendor-b/complete", body);
        using var unknown = await client.PostAsJsonAsync("/vendors/vendor-z/complete", body);
        using var empty = await client.PostAsJsonAsync("/vendors/vendor-a/complete", body with { Content = "" });

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var completion = (await ok.Content.ReadFromJsonAsync<VendorCompletionResponse>(JsonDefaults.JsonOptions))!;
        Assert.Equal("[VendorB] Tell me a joke ...", completion.Text);
        Assert.Equal(0, completion.LatencyMs);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }

    [Fact]
    public async Task Failing_vendors_answer_500_and_429_with_retry_after()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?>
        {
            ["Vendors:Mode"] = "failing",
            ["Vendors:VendorB:RetryAfterMs:0"] = "1500",
        });
        var client = factory.CreateClient();
        var body = new VendorCompletionRequest("sys", "hi", null, null);

        using var a = await client.PostAsJsonAsync("/vendors/vendor-a/complete", body);
        using var b = await client.PostAsJsonAsync("/vendors/vendor-b/complete", body);

        Assert.Equal(HttpStatusCode.InternalServerError, a.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, b.StatusCode);
        Assert.Equal(1500, (await b.Content.ReadFromJsonAsync<VendorRateLimitedResponse>(JsonDefaults.JsonOptions))!.RetryAfterMs);
        Assert.Equal(TimeSpan.FromSeconds(2), b.Headers.RetryAfter?.Delta);
    }
}
