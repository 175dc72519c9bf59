using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using StitchFin.ServiceDefaults.Identity;
using StitchFin.Voice.Audio;
using StitchFin.Voice.Speech;
using StitchFin.Voice.Turns;

namespace StitchFin.Voice;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentity();

        builder.Services.AddOptions<VoiceOptions>()
            .Bind(builder.Configuration.GetSection(VoiceOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<VoiceOptions>, VoiceOptionsValidation>();

        // The service itself reads a little more than the 10 MB audio limit, so it answers 413 with a problem.
        builder.Services.Configure<KestrelServerOptions>(options => options.Limits.MaxRequestBodySize = AudioLimits.MaxRequestBytes);
        builder.Services.Configure<FormOptions>(options => options.MultipartBodyLengthLimit = AudioLimits.MaxRequestBytes);

        builder.Services.AddSingleton<MockSpeechToText>();
        builder.Services.AddSingleton<BeepSpeechSynthesizer>();
        builder.Services.AddSingleton(SpeechEngines.Create);

        builder.Services.AddHttpClient<ConversationClient>((services, http) =>
            {
                var baseUrl = services.GetRequiredService<IConfiguration>()["Services:Conversation"];
                if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var conversation))
                {
                    throw new InvalidOperationException("Services:Conversation must be the conversation service's base URL.");
                }

                http.BaseAddress = new Uri(conversation.AbsoluteUri.TrimEnd('/') + "/");
                http.Timeout = TimeSpan.FromSeconds(services.GetRequiredService<IOptions<VoiceOptions>>().Value.ConversationTimeoutSeconds);
            })
            .AddInternalIdentityPropagation("conversation");

        return builder;
    }
}
