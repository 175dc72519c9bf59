using StitchFin.Conversation.Agents;
using StitchFin.Conversation.Anthropic;
using StitchFin.Conversation.Completions;
using StitchFin.Conversation.Data;
using StitchFin.Conversation.Idempotency;
using StitchFin.Conversation.Messages;
using StitchFin.Conversation.OpenAi;
using StitchFin.Conversation.Responses;
using StitchFin.Conversation.Sessions;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Messaging;
using StitchFin.ServiceDefaults.Outbox;

namespace StitchFin.Conversation;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity(siblings: "voice");
        builder.AddServiceDatabase<ConversationDbContext>();
        builder.AddMessaging();
        builder.Services.AddOutboxRelay<ConversationDbContext>(UnroutableEvents.Keep);

        builder.Services.AddSingleton<ConversationTelemetry>();
        builder.Services.AddAgentApiErrors();

        builder.Services.AddOptions<IdempotencyOptions>().BindConfiguration(IdempotencyOptions.SectionName)
            .Validate(o => o.RenewEvery > TimeSpan.Zero && o.RenewEvery * 2 < o.Lease, "Idempotency:RenewEvery must be positive and under half of Idempotency:Lease.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ClaimLeaseKeeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ClaimLeaseKeeper>());
        builder.Services.AddScoped<IdempotencyStore>();
        builder.Services.AddSingleton<IdempotencyCleanupService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<IdempotencyCleanupService>());

        var providersBaseAddress = builder.Configuration["Services:Providers"] ?? ProvidersClient.DefaultBaseAddress;
        var providersTimeout = builder.Configuration.GetSection(ProvidersClientOptions.SectionName).Get<ProvidersClientOptions>()?.Timeout
            ?? new ProvidersClientOptions().Timeout;
        builder.Services.AddHttpClient<ProvidersClient>(http =>
        {
            http.BaseAddress = new Uri(providersBaseAddress.TrimEnd('/') + "/");
            http.Timeout = providersTimeout;
        }).AddInternalIdentityPropagation("providers");
        builder.Services.AddHttpClient(ProviderCatalog.HttpClientName, http =>
        {
            http.BaseAddress = new Uri(providersBaseAddress.TrimEnd('/') + "/");
            http.Timeout = TimeSpan.FromSeconds(5);
        }).AddInternalIdentityPropagation("providers");
        builder.Services.AddSingleton<ProviderCatalog>();

        builder.Services.AddScoped<MessageExchangeService>();
        builder.Services.AddMemoryCache(cache => cache.SizeLimit = 100_000);
        builder.Services.AddSingleton<AgentModels>();
        return builder;
    }

    public static WebApplication MapConversationEndpoints(this WebApplication app)
    {
        app.MapAgentsApi();
        app.MapSessionsApi();
        app.MapMessagesApi();
        app.MapInternalMessagesApi();
        app.MapOpenAiApi();
        app.MapAnthropicApi();
        app.MapResponsesApi();
        return app;
    }
}
