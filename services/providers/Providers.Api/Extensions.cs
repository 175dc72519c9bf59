using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Providers;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();
        return builder;
    }

    public static WebApplication MapProvidersEndpoints(this WebApplication app)
    {
        return app;
    }
}
