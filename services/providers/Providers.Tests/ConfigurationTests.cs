using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using StitchFin.Providers.Completions;
using StitchFin.Providers.Vendors;
using StitchFin.ServiceDefaults;
using StitchFin.Testing;

namespace StitchFin.Providers.Tests;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Vendors:VendorC:BaseUrl", "http://127.0.0.1:5999/", "Vendors:VendorC names an unknown provider")]
    [InlineData("Vendors:VendorA:ErrorRate", "-0.1", "Vendors:VendorA:ErrorRate -0.1 must be between 0 and 1")]
    [InlineData("Vendors:VendorB:ErrorRate", "1.5", "Vendors:VendorB:ErrorRate 1.5 must be between 0 and 1")]
    [InlineData("Vendors:VendorA:LatenciesMs:0", "-5", "Vendors:VendorA:LatenciesMs values must be between 0")]
    [InlineData("Vendors:Mode", "turbo", "Vendors:Mode 'turbo' is not one of default, fast, failing")]
    [InlineData("Vendors:Speed", "fast", "Vendors:Speed is not a known setting")]
    [InlineData("Vendors:VendorA:BaseUrl", "not a url", "Vendors:VendorA:BaseUrl 'not a url' must be an absolute http or https URL")]
    [InlineData("Resilience:MaxRetries", "-1", "Resilience:MaxRetries must be between 0 and 10")]
    [InlineData("Resilience:BreakerFailureRatio", "0", "Resilience:BreakerFailureRatio must be greater than 0")]
    [InlineData("Resilience:AttemptTimeout", "3000", "AttemptTimeout")]
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

        var result = new VendorsOptionsValidator([]).Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Vendors:VendorB:LatenciesMs must list at least one latency.", result.Failures!);
    }

    [Fact]
    public void Modes_set_latency_and_faults_and_explicit_values_win()
    {
        var options = new VendorsOptions { Mode = "fast" };
        options.Vendors["VendorA"] = new VendorOptions { ErrorRate = 0.5 };
        options.Vendors["VendorB"] = new VendorOptions { Mode = "failing", BaseUrl = "http://vendor-b.example/v1" };

        var a = options.Resolve(SimulatedVendor.VendorA);
        var b = options.Resolve(SimulatedVendor.VendorB);

        Assert.Equal([0], a.LatenciesMs);
        Assert.Equal((0.5, "http://127.0.0.1:5103/vendors/vendor-a/"), (a.ErrorRate, a.BaseUrl));
        Assert.Equal([0], b.LatenciesMs);
        Assert.Equal((1.0, "http://vendor-b.example/v1/"), (b.ErrorRate, b.BaseUrl));
        var defaults = new VendorsOptions().Resolve(SimulatedVendor.VendorA);
        Assert.Equal([80, 120, 200, 400, 1800, 2500], defaults.LatenciesMs);
        Assert.Equal(0.1, defaults.ErrorRate);
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
