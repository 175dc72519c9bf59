using StitchFin.Conversation.Data;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.ServiceDefaults.Messaging;
using StitchFin.ServiceDefaults.Outbox;

namespace StitchFin.Conversation;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();
        builder.AddServiceDatabase<ConversationDbContext>();
        builder.AddMessaging();
        builder.Services.AddOutboxRelay<ConversationDbContext>();
        return builder;
    }

    public static WebApplication MapConversationEndpoints(this WebApplication app)
    {
        return app;
    }
}
