using Xunit;

namespace StitchFin.Testing;

/// <summary>
/// One service in process on real infrastructure of the test's own (a fresh database and virtual host), for test
/// classes that check what every service promises.
/// </summary>
public abstract class ServiceUnderTest<TProgram> : IAsyncLifetime
    where TProgram : class
{
    private TestInfrastructure? _infrastructure;

    protected ServiceFactory<TProgram> Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync(GetType().Name);
        try
        {
            Factory = new ServiceFactory<TProgram>(Configure(_infrastructure));
            _ = Factory.Server;
        }
        catch
        {
            // xunit does not call DisposeAsync when InitializeAsync fails: drop the database and virtual host here.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (Factory is not null)
        {
            await Factory.DisposeAsync();
        }

        await DisposeInfrastructureAsync();
        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
        }
    }

    /// <summary>The service's settings; a test class may route them through something of its own first.</summary>
    protected virtual IDictionary<string, string?> Configure(TestInfrastructure infrastructure) => infrastructure.Configuration;

    /// <summary>Stops what <see cref="Configure"/> started, after the service has stopped.</summary>
    protected virtual ValueTask DisposeInfrastructureAsync() => ValueTask.CompletedTask;
}
