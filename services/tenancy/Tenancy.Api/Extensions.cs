using StitchFin.ServiceDefaults;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Messaging;
using StitchFin.ServiceDefaults.Outbox;
using StitchFin.Tenancy.Consumers;
using StitchFin.Tenancy.Data;
using StitchFin.Tenancy.Infrastructure;
using StitchFin.Tenancy.Keys;

namespace StitchFin.Tenancy;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();
        builder.AddServiceDatabase<TenancyDbContext>();
        builder.AddMessaging(bus => bus.AddConsumer<ApiKeyUsedConsumer>(typeof(ApiKeyUsedConsumerDefinition)));
        builder.Services.AddOutboxRelay<TenancyDbContext>(UnroutableEvents.Discard);

        builder.Services.AddOptions<ApiKeyOptions>()
            .Bind(builder.Configuration.GetSection(ApiKeyOptions.SectionName))
            .ValidateSecret($"{ApiKeyOptions.SectionName}:Pepper", o => o.Pepper)
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeySecrets>();
        builder.Services.AddSingleton<KeyTelemetry>();
        builder.Services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(
            options => options.SerializerOptions.Converters.Add(new UtcTimestampJsonConverter()));
        return builder;
    }
}
