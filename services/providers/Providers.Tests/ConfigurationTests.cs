using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Vendors;
using StitchFin.ServiceDefaults;
using StitchFin.Testing;

namespace StitchFin.Providers.Tests;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Vendors:VendorC:Mode", "fast", "Vendors:VendorC names no simulated vendor")]
    [InlineData("Vendors:VendorA:BaseUrl", "http://127.0.0.1:5999/", "BaseUrl")]
    [InlineData("Vendors:VendorA:ErrorRate", "-0.1", "Vendors:VendorA:ErrorRate -0.1 must be between 0 and 1")]
    [InlineData("Vendors:VendorB:ErrorRate", "1.5", "Vendors:VendorB:ErrorRate 1.5 must be between 0 and 1")]
    [InlineData("Vendors:VendorA:LatenciesMs:0", "-5", "Vendors:VendorA:LatenciesMs values must be between 0")]
    [InlineData("Vendors:Mode", "turbo", "Vendors:Mode 'turbo' is not one of default, fast, failing")]
    [InlineData("Vendors:Speed", "fast", "Vendors:Speed is not a known setting")]
    [InlineData("Providers:VendorA:BaseUrl", "not a url", "Providers:VendorA:BaseUrl 'not a url' must be an absolute http or https URL")]
    [InlineData("Providers:Local:BaseUrl", "http://127.0.0.1:11434/v1", "Providers:Local:Kind must be one of 'openai-compatible', 'openai-responses', 'anthropic' or 'simulated'")]
    [InlineData("Providers:Local:Kind", "simulated", "Kind 'simulated' is only for the built-in vendors")]
    [InlineData("Providers:Local:Kind", "openai-compatible", "Providers:Local:BaseUrl '' must be an absolute http or https URL")]
    [InlineData("Providers:Local:Kind", "openai-compatible", "Providers:Local:InputPer1KTokens is required")]
    [InlineData("Providers:VendorA:InputPer1KTokens", "-1", "Providers:VendorA:InputPer1KTokens must be between 0 and 1000")]
    [InlineData("Providers:VendorA:Headers:Authorization", "Bearer x", "Providers:VendorA:Headers:Authorization is not a header")]
    [InlineData("Providers:VendorA:DefaultModel", "gpt-4o", "DefaultModel 'gpt-4o' must be one of its Models")]
    [InlineData("Providers:VendorA:ApiKeyEnvironmentVariable", "STITCHFIN_TEST_UNSET_VARIABLE", "names 'STITCHFIN_TEST_UNSET_VARIABLE', which is not set")]
    [InlineData("Providers:VendorA:Colour", "blue", "Colour")]
    [InlineData("Providers:bad name:Kind", "openai-compatible", "a provider name is")]
    [InlineData("Providers:Claude:Kind", "anthropic", "Providers:Claude:InputPer1KTokens is required")]
    [InlineData("Providers:VendorA:DefaultMaxTokens", "100", "Providers:VendorA:DefaultMaxTokens is only for kind 'anthropic'")]
    [InlineData("Resilience:MaxRetries", "-1", "Resilience:MaxRetries must be between 0 and 10")]
    [InlineData("Resilience:BreakerFailureRatio", "0", "Resilience:BreakerFailureRatio must be greater than 0")]
    [InlineData("Resilience:AttemptTimeoutMs", "3000", "AttemptTimeoutMs")]
    [InlineData("Resilience:IdleTimeoutMs", "0", "Resilience:IdleTimeoutMs must be between 10 and 600000")]
    public async Task Invalid_configuration_fails_at_start_with_a_clear_message(string key, string value, string message)
    {
        // Composed as Program composes it, on a test server, so the failed start and the disposal are in the test's hands.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Identity:SigningKey"] = TestInfrastructure.SigningKey,
            [key] = value,
        });
        builder.AddServiceDefaults("providers");
        builder.AddApplicationServices();
        await using var app = builder.Build();

        var error = await Record.ExceptionAsync(() => app.StartAsync());

        Assert.NotNull(error);
        var messages = Flatten(error).Select(e => e.Message).ToList();
        Assert.True(messages.Any(m => m.Contains(message, StringComparison.Ordinal)), string.Join(Environment.NewLine, messages));
    }

    [Fact]
    public void Empty_latency_set_is_rejected()
    {
        var options = new VendorsOptions();
        options.Vendors["VendorB"] = new VendorOptions { LatenciesMs = [] };

        var result = new VendorsOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Vendors:VendorB:LatenciesMs must list at least one latency.", result.Failures!);
    }

    [Fact]
    public void Modes_set_latency_and_faults_and_explicit_values_win()
    {
        var options = new VendorsOptions { Mode = "fast" };
        options.Vendors["VendorA"] = new VendorOptions { ErrorRate = 0.5 };
        options.Vendors["VendorB"] = new VendorOptions { Mode = "failing" };

        var a = options.Resolve(SimulatedVendor.VendorA);
        var b = options.Resolve(SimulatedVendor.VendorB);

        Assert.Equal([0], a.LatenciesMs);
        Assert.Equal(0.5, a.ErrorRate);
        Assert.Equal([0], b.LatenciesMs);
        Assert.Equal(1.0, b.ErrorRate);
        var defaults = new VendorsOptions().Resolve(SimulatedVendor.VendorA);
        Assert.Equal([80, 120, 200, 400, 1800, 2500], defaults.LatenciesMs);
        Assert.Equal(0.1, defaults.ErrorRate);
    }

    [Fact]
    public void An_openai_compatible_provider_is_one_block_of_settings_and_keeps_its_key_out_of_sight()
    {
        var options = new ProviderCatalogOptions { Environment = name => name == "LOCAL_LLM_KEY" ? "sk-from-environment" : null };
        options.Providers["Local"] = new ProviderOptions
        {
            Kind = "openai-compatible",
            BaseUrl = "http://127.0.0.1:8000/v1",
            ApiKeyEnvironmentVariable = "LOCAL_LLM_KEY",
            InputPer1KTokens = 0.0005m,
            OutputPer1KTokens = 0.0015m,
            Headers = { ["OpenAI-Organization"] = "org-1" },
        };

        var local = options.Build().Single(e => e.Name == "Local");

        Assert.Equal("http://127.0.0.1:8000/v1/chat/completions", local.EndpointUrl.ToString());
        Assert.Equal("sk-from-environment", local.ApiKey);
        Assert.Equal("org-1", local.Headers["openai-organization"]);
        Assert.Null(local.DefaultModel);
        Assert.Empty(local.Models);
        Assert.DoesNotContain("sk-", local.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sk-", System.Text.Json.JsonSerializer.Serialize(local.ToInfo()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anthropic", "https://api.anthropic.com/v1", "https://api.anthropic.com/v1/messages", 4096)]
    [InlineData("openai-responses", "https://api.openai.com/v1/", "https://api.openai.com/v1/responses", null)]
    [InlineData("openai-compatible", "https://api.openai.com/v1", "https://api.openai.com/v1/chat/completions", null)]
    public void Each_kind_is_one_block_of_settings_and_is_called_at_its_apis_path(string kind, string baseUrl, string endpoint, int? defaultMaxTokens)
    {
        var options = new ProviderCatalogOptions();
        options.Providers["Native"] = new ProviderOptions
        {
            Kind = kind, BaseUrl = baseUrl, ApiKey = "sk-native-key", InputPer1KTokens = 0.003m, OutputPer1KTokens = 0.015m,
        };

        var native = options.Build().Single(e => e.Name == "Native");

        Assert.Equal((kind, endpoint, defaultMaxTokens), (native.Kind, native.EndpointUrl.ToString(), native.DefaultMaxTokens));
        Assert.Equal(kind, native.ToInfo().Kind);
        Assert.DoesNotContain("sk-", System.Text.Json.JsonSerializer.Serialize(native.ToInfo()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anthropic", "x-api-key", null, "Providers:Claude:Headers:x-api-key is not a header")]
    [InlineData("anthropic", "anthropic-beta", 0, "Providers:Claude:DefaultMaxTokens must be between 1 and 1000000")]
    [InlineData("openai-responses", "anthropic-beta", 500, "Providers:Claude:DefaultMaxTokens is only for kind 'anthropic'")]
    public void Anthropics_key_header_is_only_its_api_key_and_its_default_limit_is_bounded(string kind, string header, int? defaultMaxTokens, string error)
    {
        var options = new ProviderCatalogOptions();
        options.Providers["Claude"] = new ProviderOptions
        {
            Kind = kind, BaseUrl = "https://api.anthropic.com/v1", InputPer1KTokens = 0.003m, OutputPer1KTokens = 0.015m,
            Headers = { [header] = "value" }, DefaultMaxTokens = defaultMaxTokens,
        };

        Assert.Equal([error], options.Validate().Select(e => e[..Math.Min(e.Length, error.Length)]));
    }

    [Fact]
    public void An_anthropic_provider_may_set_its_version_header_and_its_default_limit()
    {
        var options = new ProviderCatalogOptions();
        options.Providers["Claude"] = new ProviderOptions
        {
            Kind = "anthropic", BaseUrl = "https://api.anthropic.com/v1", InputPer1KTokens = 0.003m, OutputPer1KTokens = 0.015m,
            Headers = { ["anthropic-version"] = "2023-06-01", ["anthropic-beta"] = "prompt-caching-2024-07-31" }, DefaultMaxTokens = 8192,
        };

        var claude = options.Build().Single(e => e.Name == "Claude");

        Assert.Equal(8192, claude.DefaultMaxTokens);
        Assert.Equal("prompt-caching-2024-07-31", claude.Headers["anthropic-beta"]);
    }

    [Fact]
    public void The_simulated_vendors_keep_their_defaults_and_take_a_new_address()
    {
        var options = new ProviderCatalogOptions();
        options.Providers["VendorB"] = new ProviderOptions { BaseUrl = "http://127.0.0.1:6000/vendors/vendor-b/v1" };

        var entries = options.Build();

        Assert.Equal(["VendorA", "VendorB"], entries.Select(e => e.Name));
        Assert.Equal("http://127.0.0.1:5103/vendors/vendor-a/v1/chat/completions", entries[0].EndpointUrl.ToString());
        Assert.Equal("http://127.0.0.1:6000/vendors/vendor-b/v1/chat/completions", entries[1].EndpointUrl.ToString());
        Assert.Equal(("simulated", "vendor-b", 0.0020m, 0.0040m), (entries[1].Kind, entries[1].DefaultModel, entries[1].Price.InputPer1KTokens, entries[1].Price.OutputPer1KTokens));
    }

    [Fact]
    public void Default_resilience_settings_are_valid()
    {
        Assert.True(new ResilienceOptionsValidator().Validate(null, new ResilienceOptions()).Succeeded);
    }

    private static IEnumerable<Exception> Flatten(Exception error)
    {
        yield return error;
        var inner = error is AggregateException aggregate ? aggregate.InnerExceptions : error.InnerException is { } one ? [one] : [];
        foreach (var nested in inner.SelectMany(Flatten))
        {
            yield return nested;
        }
    }
}
