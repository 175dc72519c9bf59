using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace StitchFin.ServiceDefaults.Http;

public static class AgentApiErrors
{
    /// <summary>
    /// Puts <see cref="OpenAiErrorWriter"/> and <see cref="AnthropicErrorWriter"/> before the default problem+json
    /// writer (the problem details service asks writers in registration order, and the shared defaults registered
    /// theirs earlier), so the agent APIs' errors reach SDKs in the shape they read.
    /// </summary>
    public static IServiceCollection AddAgentApiErrors(this IServiceCollection services)
    {
        if (!services.Any(d => d.ImplementationType == typeof(OpenAiErrorWriter)))
        {
            services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrorWriter>());
            services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, AnthropicErrorWriter>());
        }

        return services;
    }
}
