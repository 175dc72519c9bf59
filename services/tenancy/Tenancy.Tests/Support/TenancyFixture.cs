using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Outbox;
using StitchFin.Tenancy.Data;
using StitchFin.Testing;

namespace StitchFin.Tenancy.Tests.Support;

public sealed record CreatedTenant(Guid Id, string Name, string ApiKey, HttpClient Client);

/// <summary>One tenancy instance, database and virtual host shared by the API tests; they run one after another.</summary>
public sealed class TenancyFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 22, 30, 0, TimeSpan.Zero);

    private TestInfrastructure? _infrastructure;
    private TenancyFactory? _factory;

    public FakeTimeProvider Time { get; } = new(Start);

    public TestInfrastructure Infrastructure => _infrastructure ?? throw new InvalidOperationException("Not started.");

    public TenancyFactory Factory => _factory ?? throw new InvalidOperationException("Not started.");

    /// <summary>Calls as the edge does for key verification.</summary>
    public HttpClient Edge => Factory.CreateClientFor(Guid.Empty, IdentityKind.Service);

    public HttpClient Admin => Factory.CreateClientFor(Guid.Empty, IdentityKind.Admin);

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync("tenancy-api");
        try
        {
            _factory = new TenancyFactory(_infrastructure.Configuration, Time);
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

    public HttpClient ClientFor(Guid tenantId) => Factory.CreateClientFor(tenantId);

    public async Task<CreatedTenant> CreateTenantAsync(string name)
    {
        Time.Advance(TimeSpan.FromSeconds(1));
        using var response = await Admin.PostAsJsonAsync("/tenants", new { name });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var json = JsonDocument.Parse(body).RootElement;
        var id = json.GetProperty("id").GetGuid();
        return new CreatedTenant(id, name, json.GetProperty("apiKey").GetString()!, ClientFor(id));
    }

    /// <summary>Creates a key one simulated second after the previous write, so "newest first" has something to order.</summary>
    public async Task<JsonElement> CreateKeyAsync(HttpClient client, string name)
    {
        Time.Advance(TimeSpan.FromSeconds(1));
        using var response = await client.PostAsJsonAsync("/keys", new { name });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement;
    }

    public async Task<JsonElement[]> ListKeysAsync(HttpClient client, string query = "")
    {
        using var response = await client.GetAsync($"/keys{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray()];
    }

    public Task<HttpResponseMessage> VerifyAsync(string apiKey) => Edge.PostAsJsonAsync("/internal/keys/verify", new { apiKey });

    public async Task<T> QueryAsync<T>(Func<TenancyDbContext, Task<T>> query)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TenancyDbContext>());
    }

    /// <summary>The relay deletes a row only after the broker confirmed it, so an empty table means every event was handed over.</summary>
    public async Task WaitForOutboxDrainedAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await QueryAsync(db => db.Set<OutboxMessage>().AnyAsync(deadline.Token)))
        {
            await Task.Delay(50, deadline.Token);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class TenancyCollection : ICollectionFixture<TenancyFixture>
{
    public const string Name = "tenancy";
}
