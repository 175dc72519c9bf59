using MassTransit;
using StitchFin.Metering.Consumers;
using StitchFin.Metering.Data;
using StitchFin.Metering.Usage;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Messaging;

namespace StitchFin.Metering;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();
        builder.AddServiceDatabase<MeteringDbContext>();
        // Registered before the bus: hosted services stop in reverse order, so the recorder outlives the consumers.
        builder.Services.AddSingleton<UsageRecorder>();
        builder.Services.AddHostedService(services => services.GetRequiredService<UsageRecorder>());
        builder.AddMessaging(bus => bus.AddConsumer<MessageCompletedConsumer, MessageCompletedConsumerDefinition>());
        builder.Services.AddSingleton<MeteringTelemetry>();
        return builder;
    }

    public static WebApplication MapMeteringEndpoints(this WebApplication app)
    {
        app.MapUsageApi();
        return app;
    }
}
