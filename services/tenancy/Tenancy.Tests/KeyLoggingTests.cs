using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Tenancy.Tests.Support;
using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests;

/// <summary>Every log line of a full key life cycle, at every level, is free of key material.</summary>
public sealed class KeyLoggingTests : IAsyncLifetime
{
    private TestInfrastructure? _infrastructure;
    private TenancyFactory? _factory;

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync("tenancy-logs");
        try
        {
            _factory = new TenancyFactory(_infrastructure.Configuration, new FakeTimeProvider(TenancyFixture.Start),
                services => services.AddLogging(logging => logging
                    .AddFakeLogging()
                    // A provider-specific rule outranks appsettings' category levels, so this captures everything.
                    .AddFilter<FakeLoggerProvider>(null, LogLevel.Trace)));
            await _factory.WaitUntilReadyAsync();
        }
        catch
        {
            // xunit does not call DisposeAsync when InitializeAsync fails; drop the database and virtual host here.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }

    [Fact]
    public async Task Keys_never_appear_in_any_log_line()
    {
        var factory = _factory!;
        var admin = factory.CreateClientFor(Guid.Empty, IdentityKind.Admin);
        var edge = factory.CreateClientFor(Guid.Empty, IdentityKind.Service);

        using var createdTenant = await admin.PostAsJsonAsync("/tenants", new { name = "Quiet" });
        var tenantBody = JsonDocument.Parse(await createdTenant.Content.ReadAsStringAsync()).RootElement;
        var tenantKey = tenantBody.GetProperty("apiKey").GetString()!;
        var tenant = factory.CreateClientFor(tenantBody.GetProperty("id").GetGuid());

        using var createdKey = await tenant.PostAsJsonAsync("/keys", new { name = "ci" });
        var keyBody = JsonDocument.Parse(await createdKey.Content.ReadAsStringAsync()).RootElement;
        var apiKey = keyBody.GetProperty("apiKey").GetString()!;
        var tampered = apiKey[..^1] + (apiKey[^1] == 'A' ? 'B' : 'A');

        Assert.Equal(HttpStatusCode.OK, (await edge.PostAsJsonAsync("/internal/keys/verify", new { apiKey = tenantKey })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await edge.PostAsJsonAsync("/internal/keys/verify", new { apiKey })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await edge.PostAsJsonAsync("/internal/keys/verify", new { apiKey = tampered })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.DeleteAsync($"/keys/{keyBody.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await edge.PostAsJsonAsync("/internal/keys/verify", new { apiKey })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.PostAsJsonAsync("/internal/keys/verify", new { apiKey = tenantKey })).StatusCode);

        var records = factory.Services.GetFakeLogCollector().GetSnapshot();
        // The capture works: the audit lines name keys by their non-secret prefix.
        Assert.Contains(records, r => r.Message.Contains(keyBody.GetProperty("prefix").GetString()!, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Category?.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) == true);

        string[] secrets = [tenantKey, apiKey, tampered, tenantKey[17..], apiKey[17..], tampered[17..]];
        foreach (var record in records)
        {
            var text = Describe(record);
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"[{record.Category}] leaks a key: {text}");
            }
        }
    }

    private static string Describe(FakeLogRecord record) => string.Join('\n',
        [
            record.Message,
            record.Exception?.ToString() ?? "",
            .. record.StructuredState?.Select(pair => $"{pair.Key}={pair.Value}") ?? [],
            .. record.Scopes.Select(scope => scope?.ToString() ?? ""),
        ]);
}
