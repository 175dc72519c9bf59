using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using StitchFin.Metering.Consumers;
using StitchFin.Metering.Usage;
using StitchFin.Testing;

namespace StitchFin.Metering.Tests;

public sealed class PoisonMessageTests : IAsyncLifetime
{
    private const string ErrorQueue = MessageCompletedConsumerDefinition.QueueName + "_error";
    private TestInfrastructure _infrastructure = null!;
    private MeteringFactory _factory = null!;

    public async Task InitializeAsync()
    {
        _infrastructure = await TestInfrastructure.StartAsync(nameof(PoisonMessageTests));
        _factory = new MeteringFactory(_infrastructure.Configuration);
        await _factory.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _infrastructure.DisposeAsync();
    }

    [Fact]
    public async Task An_event_that_fails_validation_lands_in_the_error_queue_and_counts_nothing()
    {
        var tenant = Guid.NewGuid();
        var poison = Events.Completed(tenant, Guid.NewGuid(), DateTimeOffset.Parse("2026-09-09T15:00:00Z")) with { TokensIn = -5 };
        var healthy = Events.Completed(tenant, Guid.NewGuid(), DateTimeOffset.Parse("2026-09-09T16:00:00Z"));

        await _factory.Bus.Publish(poison);
        await _factory.Bus.Publish(healthy);

        var faulted = await WaitForErrorQueueMessageAsync();
        Assert.NotNull(faulted);
        Assert.Contains(poison.EventId.ToString(), Encoding.UTF8.GetString(faulted.Body.Span), StringComparison.Ordinal);
        var exceptionType = faulted.BasicProperties.Headers?["MT-Fault-ExceptionType"] as byte[];
        Assert.Equal(typeof(InvalidUsageEventException).FullName, exceptionType is null ? null : Encoding.UTF8.GetString(exceptionType));

        var report = await _factory.WaitForUsageAsync(tenant, "2026-09-09", "2026-09-09", r => r.Totals.Messages == 1);
        Assert.Equal(new UsageTotals(1, healthy.TokensIn, healthy.TokensOut, healthy.CostUsd), report.Totals);
    }

    /// <summary>Takes the first message off the error queue, which MassTransit creates when the first fault arrives.</summary>
    private async Task<BasicGetResult?> WaitForErrorQueueMessageAsync()
    {
        var broker = _infrastructure.RabbitMq;
        var connectionFactory = new ConnectionFactory
        {
            HostName = broker.Host,
            Port = broker.Port,
            UserName = broker.Username,
            Password = broker.Password,
            VirtualHost = broker.VirtualHost,
        };
        await using var connection = await connectionFactory.CreateConnectionAsync();
        var deadline = DateTime.UtcNow + MeteringFactory.Patience;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await using var channel = await connection.CreateChannelAsync();
                if (await channel.BasicGetAsync(ErrorQueue, autoAck: true) is { } result)
                {
                    return result;
                }
            }
            catch (OperationInterruptedException)
            {
                // The queue does not exist until the retries are exhausted; the failed get closed only its channel.
            }

            await Task.Delay(200);
        }

        return null;
    }
}
