using System.Net.Http.Headers;
using StitchFin.Testing;

namespace StitchFin.Voice.Tests;

/// <summary>The voice service (beep speech, so reply audio is exact) wired to a <see cref="FakeConversation"/>.</summary>
public class VoiceHost : IAsyncLifetime
{
    public FakeConversation Conversation { get; private set; } = null!;

    public ServiceFactory<Program> Factory { get; private set; } = null!;

    protected virtual string SpeechEngine => "beep";

    public static Dictionary<string, string?> Configuration(Uri conversation, string speechEngine) => new()
    {
        ["Identity:SigningKey"] = TestInfrastructure.SigningKey,
        ["Services:Conversation"] = conversation.ToString(),
        ["Voice:SpeechEngine"] = speechEngine,
    };

    public async Task InitializeAsync()
    {
        Conversation = await FakeConversation.StartAsync();
        Factory = new ServiceFactory<Program>(Configuration(Conversation.BaseAddress, SpeechEngine));
        _ = Factory.Server;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Conversation.DisposeAsync();
    }

    /// <summary>POSTs a raw WAV body as <paramref name="tenant"/> (a fresh tenant when omitted).</summary>
    public Task<HttpResponseMessage> PostWavAsync(Guid session, byte[] wav, string? idempotencyKey = null, bool json = false, Guid? tenant = null)
    {
        var content = new ByteArrayContent(wav);
        content.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        return PostAsync(session, content, idempotencyKey, json, tenant);
    }

    public Task<HttpResponseMessage> PostAsync(Guid session, HttpContent content, string? idempotencyKey = null, bool json = false, Guid? tenant = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/voice") { Content = content };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (json)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        }

        return Factory.CreateClientFor(tenant ?? Guid.NewGuid()).SendAsync(request);
    }
}

/// <summary>The same host with real speech from espeak-ng.</summary>
public sealed class EspeakVoiceHost : VoiceHost
{
    protected override string SpeechEngine => "espeak";
}
