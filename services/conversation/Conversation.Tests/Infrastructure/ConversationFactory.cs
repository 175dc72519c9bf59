using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using StitchFin.Testing;

namespace StitchFin.Conversation.Tests.Infrastructure;

/// <summary>The conversation service under test, optionally on a fake clock.</summary>
public sealed class ConversationFactory(IDictionary<string, string?> configuration, TimeProvider? time = null)
    : ServiceFactory<Program>(configuration)
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (time is not null)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(time));
        }
    }
}
