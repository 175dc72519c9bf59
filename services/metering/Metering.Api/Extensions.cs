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
