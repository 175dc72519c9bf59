using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Tests.Support;
using StitchFin.Providers.Upstreams;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Providers.Tests;

public sealed class CompletionsApiTests
{
    private static readonly CompletionRequest Hello = new(ProviderNames.VendorA, ProviderNames.VendorB, "Be brief.", "Hello, what can you do?");

    [Fact]
    public async Task Completion_through_the_simulated_vendors_openai_api_over_http()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?> { ["Vendors:Mode"] = "fast" });

        using var response = await factory.CreateClientFor(Guid.NewGuid()).PostAsJsonAsync("/internal/completions", Hello);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<CompletionResult>(JsonDefaults.JsonOptions))!;
        Assert.Equal((ProviderNames.VendorA, "vendor-a", false), (result.Provider, result.Model, result.FallbackUsed));
        Assert.Equal("[VendorA] Hello, what can you do? ...", result.Text);
        Assert.Equal(TokenCount.EstimatePrompt("Be brief.", "Hello, what can you do?"), result.TokensIn);
        Assert.InRange(result.TokensOut, 30, 120);
        Assert.False(result.UsageEstimated);
        Assert.Equal(Catalog.CostFormula.CostUsd(new Catalog.ProviderPrice(0.0030m, 0.0060m), result.TokensIn, result.TokensOut), result.CostUsd);
        var attempt = Assert.Single(result.Attempts);
        Assert.Equal((ProviderNames.VendorA, AttemptOutcomes.Ok, (int?)200, "vendor-a"), (attempt.Provider, attempt.Outcome, attempt.Status, attempt.Model));
    }

    [Fact]
    public async Task A_streamed_completion_sends_start_deltas_and_the_result()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?> { ["Vendors:Mode"] = "fast" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/completions") { Content = JsonContent.Create(Hello) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await factory.CreateClientFor(Guid.NewGuid()).SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            events.Add(item);
        }

        Assert.Equal(CompletionStreamEvents.Start, events[0].EventType);
        Assert.Equal(new StreamStart(ProviderNames.VendorA, "vendor-a", false), JsonSerializer.Deserialize<StreamStart>(events[0].Data, JsonDefaults.JsonOptions));
        var deltas = events.Skip(1).TakeWhile(e => e.EventType == CompletionStreamEvents.Delta)
            .Select(e => JsonSerializer.Deserialize<StreamDelta>(e.Data, JsonDefaults.JsonOptions)!.Text).ToList();
        Assert.Equal(["[VendorA] ", "Hello, ", "what ", "can ", "you ", "do? ", "..."], deltas);
        var last = events[^1];
        Assert.Equal(CompletionStreamEvents.Completed, last.EventType);
        var result = JsonSerializer.Deserialize<CompletionResult>(last.Data, JsonDefaults.JsonOptions)!;
        Assert.Equal(string.Concat(deltas), result.Text);
        Assert.Equal(events.Count, deltas.Count + 2);
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
        Assert.Equal(("[VendorB] Hello, what can you do? ...", "vendor-b"), (result.Text, result.Model));
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
        Assert.Equal(CompletionFailureReasons.Exhausted, failure.Reason);
        Assert.False(string.IsNullOrEmpty(failure.Detail));
    }

    [Fact]
    public async Task A_stream_that_fails_before_its_first_content_is_a_plain_502_problem()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?>
        {
            ["Vendors:Mode"] = "failing",
            ["Vendors:VendorB:RetryAfterMs:0"] = "1",
            ["Resilience:RetryBaseDelayMs"] = "1",
            ["Resilience:RetryMaxDelayMs"] = "5",
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/completions") { Content = JsonContent.Create(Hello) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));

        using var response = await factory.CreateClientFor(Guid.NewGuid()).SendAsync(request);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(6, (await response.Content.ReadFromJsonAsync<CompletionFailed>(JsonDefaults.JsonOptions))!.Attempts.Count);
    }

    [Theory]
    [InlineData("VendorZ", null, "VendorB", null, "primaryProvider")]
    [InlineData("", null, null, null, "primaryProvider")]
    [InlineData("VendorA", null, "VendorA", null, "fallbackModel")]
    [InlineData("VendorA", null, "VendorA", "vendor-a", "fallbackModel")]
    [InlineData("VendorA", null, "vendorb", null, "fallbackProvider")]
    [InlineData("VendorA", "gpt-4o", null, null, "primaryModel")]
    [InlineData("VendorA", null, null, "vendor-b", "fallbackModel")]
    public async Task Invalid_targets_are_400_validation_problems(string primary, string? primaryModel, string? fallback, string? fallbackModel, string field)
    {
        await using var factory = new ProvidersFactory();

        using var response = await factory.CreateClientFor(Guid.NewGuid())
            .PostAsJsonAsync("/internal/completions", new CompletionRequest(primary, fallback, "", "Hi", primaryModel, fallbackModel));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), json.RootElement.ToString());
    }

    [Fact]
    public async Task Empty_content_is_a_400_validation_problem()
    {
        await using var factory = new ProvidersFactory();

        using var response = await factory.CreateClientFor(Guid.NewGuid()).PostAsJsonAsync("/internal/completions", Hello with { UserContent = "" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("userContent", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem()
    {
        await using var factory = new ProvidersFactory();

        using var response = await factory.CreateClientFor(Guid.NewGuid())
            .PostAsync("/internal/completions", new StringContent("{\"primaryProvider\":", Encoding.UTF8, "application/json"));

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
    public async Task The_catalogue_lists_names_kinds_prices_and_models_but_never_addresses_or_keys()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?>
        {
            ["Providers:Local:Kind"] = "openai-compatible",
            ["Providers:Local:BaseUrl"] = "http://127.0.0.1:11434/v1",
            ["Providers:Local:ApiKey"] = "sk-secret-value",
            ["Providers:Local:InputPer1KTokens"] = "0.0001",
            ["Providers:Local:OutputPer1KTokens"] = "0.0002",
            ["Providers:Local:Models:0"] = "llama3.1:8b",
            ["Providers:Local:Models:1"] = "qwen2.5:7b",
        });

        using var response = await factory.CreateClientFor(Guid.NewGuid()).GetAsync("/providers");

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("sk-secret-value", body, StringComparison.Ordinal);
        Assert.DoesNotContain("11434", body, StringComparison.Ordinal);
        var providers = JsonSerializer.Deserialize<ProviderInfo[]>(body, JsonDefaults.JsonOptions)!;
        Assert.Equal(["VendorA", "VendorB", "Local"], providers.Select(p => p.Name));
        var vendorA = providers[0];
        Assert.Equal(("simulated", 0.0030m, 0.0060m, "vendor-a"), (vendorA.Kind, vendorA.InputPer1KTokens, vendorA.OutputPer1KTokens, vendorA.DefaultModel));
        Assert.Equal(["vendor-a"], vendorA.Models);
        var local = providers[2];
        Assert.Equal(("openai-compatible", 0.0001m, 0.0002m, (string?)null), (local.Kind, local.InputPer1KTokens, local.OutputPer1KTokens, local.DefaultModel));
        Assert.Equal(["llama3.1:8b", "qwen2.5:7b"], local.Models);
    }

    [Fact]
    public async Task Circuits_are_listed_per_provider_and_model_once_used()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?> { ["Vendors:Mode"] = "fast" });
        var client = factory.CreateClientFor(Guid.NewGuid());
        (await client.PostAsJsonAsync("/internal/completions", Hello)).Dispose();

        var circuits = await client.GetFromJsonAsync<CircuitStatus[]>("/internal/circuits", JsonDefaults.JsonOptions);

        Assert.Equal([new CircuitStatus("VendorA", "vendor-a", "closed")], circuits!);
    }

    [Fact]
    public async Task Vendor_endpoints_speak_openai_chat_completions_anonymously_like_a_third_party_api()
    {
        await using var factory = new ProvidersFactory(new Dictionary<string, string?> { ["Vendors:Mode"] = "fast" });
        var client = factory.CreateClient();
        var body = new { model = "vendor-b", messages = new[] { new { role = "system", content = "sys" }, new { role = "user", content = "Tell me a joke" } } };

        using var ok = await client.PostAsJsonAsync("/vendors/vendor-b/v1/chat/completions", body);
        using var unknown = await client.PostAsJsonAsync("/vendors/vendor-z/v1/chat/completions", body);
        using var noUser = await client.PostAsJsonAsync("/vendors/vendor-a/v1/chat/completions", new { model = "m", messages = Array.Empty<object>() });

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var completion = JsonDocument.Parse(await ok.Content.ReadAsStringAsync());
        Assert.Equal("chat.completion", completion.RootElement.GetProperty("object").GetString());
        Assert.Equal("vendor-b", completion.RootElement.GetProperty("model").GetString());
        var choice = completion.RootElement.GetProperty("choices")[0];
        Assert.Equal("[VendorB] Tell me a joke ...", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(TokenCount.EstimatePrompt("sys", "Tell me a joke"), completion.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noUser.StatusCode);
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
        var body = new { model = "m", messages = new[] { new { role = "user", content = "hi" } } };

        using var a = await client.PostAsJsonAsync("/vendors/vendor-a/v1/chat/completions", body);
        using var b = await client.PostAsJsonAsync("/vendors/vendor-b/v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.InternalServerError, a.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, b.StatusCode);
        using var limited = JsonDocument.Parse(await b.Content.ReadAsStringAsync());
        Assert.Equal(1500, limited.RootElement.GetProperty("retryAfterMs").GetInt32());
        Assert.Equal("rate_limit_exceeded", limited.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(TimeSpan.FromSeconds(2), b.Headers.RetryAfter?.Delta);
    }
}
