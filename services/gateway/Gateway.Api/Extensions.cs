using StitchFin.Gateway.Health;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Gateway;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentitySigning();
        builder.Services.AddHttpClient(ReadinessApi.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(2));
        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
        return builder;
    }

    public static WebApplication MapGatewayEndpoints(this WebApplication app)
    {
        app.MapReadinessApi();
        app.MapReverseProxy();
        return app;
    }
}
