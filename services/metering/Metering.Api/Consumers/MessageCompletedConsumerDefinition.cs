using MassTransit;
using Npgsql;
using StitchFin.Metering.Usage;

namespace StitchFin.Metering.Consumers;

public sealed class MessageCompletedConsumerDefinition : ConsumerDefinition<MessageCompletedConsumer>
{
    /// <summary>Named for the service so its <c>_error</c> queue says whose poison it holds.</summary>
    public const string QueueName = "metering-message-completed";

    /// <summary>How many events may wait for <see cref="UsageRecorder"/> at once, which is how big its batches can grow.</summary>
    public const int ConcurrencyLimit = 16;

    public MessageCompletedConsumerDefinition()
    {
        EndpointName = QueueName;
        ConcurrentMessageLimit = ConcurrencyLimit;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<MessageCompletedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Transient database trouble is retried here, inside the bus-wide retry; an event that fails validation
        // fails the same way every time, so it is not retried here and reaches the error queue sooner.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<InvalidUsageEventException>();
            retry.Handle<NpgsqlException>();
            retry.Handle<TimeoutException>();
            retry.Incremental(3, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200));
        });
    }
}
