using StitchFin.Tenancy.Data;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Messaging;
using StitchFin.ServiceDefaults.Outbox;

namespace StitchFin.Tenancy;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();
        builder.AddServiceDatabase<TenancyDbContext>();
        builder.AddMessaging();
        builder.Services.AddOutboxRelay<TenancyDbContext>();
        return builder;
    }

    public static WebApplication MapTenancyEndpoints(this WebApplication app)
    {
        return app;
    }
}
