using Microsoft.Extensions.DependencyInjection;
using StitchFin.Conversation.Data;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests.Infrastructure;

/// <summary>
/// One conversation service per test class on a fresh database and virtual host, with the fake providers
/// service and a test consumer of its events. Tests use fresh tenants, so they never see each other's rows.
/// </summary>
public class ConversationFixture : IAsyncLifetime
{
    private TestInfrastructure? _infrastructure;

    public FakeProviders Providers { get; private set; } = null!;

    public EventCollector Events { get; private set; } = null!;

    public ConversationFactory Factory { get; private set; } = null!;

    protected virtual TimeProvider? Time => null;

    /// <summary>Settings a fixture adds to the service's configuration.</summary>
    protected virtual void Configure(IDictionary<string, string?> configuration)
    {
    }

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync(GetType().Name);
        Providers = await FakeProviders.StartAsync();
        // The test's queue is bound before the service publishes anything, so no event can miss it.
        Events = await EventCollector.StartAsync(_infrastructure.RabbitMq, "conversation-tests-message-completed");
        var configuration = _infrastructure.Configuration;
        configuration["Services:Providers"] = Providers.BaseAddress;
        configuration["ProvidersClient:Timeout"] = "00:00:05";
        Configure(configuration);
        Factory = new ConversationFactory(configuration, Time);
        _ = Factory.Server;
    }

    public TenantClient NewTenant() => new(Factory.CreateClientFor(Guid.NewGuid()));

    public async Task<T> WithDbAsync<T>(Func<ConversationDbContext, Task<T>> query)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<ConversationDbContext>());
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Events.DisposeAsync();
        await Providers.DisposeAsync();
        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }
}
