using StitchFin.Metering.Data;
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
        builder.AddMessaging();
        return builder;
    }

    public static WebApplication MapMeteringEndpoints(this WebApplication app)
    {
        return app;
    }
}
