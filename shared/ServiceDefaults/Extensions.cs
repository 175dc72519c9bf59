using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.ServiceDefaults;

public static class Extensions
{
    public const string ReadyTag = "ready";

    /// <summary>Telemetry, health checks, problem details and JSON options shared by every service.</summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        builder.ConfigureOpenTelemetry(serviceName);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new Identity.ServiceName(serviceName));
        builder.Services.AddHttpContextAccessor();
        // Every outgoing call is already a span and a metric; the client factory's log scope and log lines per request
        // add allocations on the message path and say nothing the traces do not.
        builder.Services.ConfigureHttpClientDefaults(http => http.RemoveAllLoggers());
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions.TryAdd("traceId", Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier);
        });
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<Data.DatabaseUnavailableExceptionHandler>();
        // Malformed bodies, unparsable route values and the like become a 400 problem that says what is wrong.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(options => ConfigureJson(options.SerializerOptions));
        builder.AddAdmissionControl();

        return builder;
    }

    /// <summary>The one set of JSON options: the web defaults (camelCase), with strict numbers.</summary>
    public static JsonSerializerOptions ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.PropertyNameCaseInsensitive = true;
        return options;
    }

    public static readonly JsonSerializerOptions JsonOptions = ConfigureJson(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>Error handling and <c>/health/live</c>, <c>/health/ready</c> in every environment.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // First of the service's own work: a request beyond its capacity is refused before anything is spent on it.
        app.UseAdmissionControl();

        app.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("live"),
            ResponseWriter = HealthResponses.WriteAsync,
        }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag) || check.Tags.Contains("live"),
            ResponseWriter = HealthResponses.WriteAsync,
        }).AllowAnonymous();

        return app;
    }
}
