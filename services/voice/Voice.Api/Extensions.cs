using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Voice;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();
        return builder;
    }

    public static WebApplication MapVoiceEndpoints(this WebApplication app)
    {
        return app;
    }
}
