using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Voice.Tests;

/// <summary>Only the identity the edge signs gets a voice turn; nothing reaches conversation otherwise.</summary>
public sealed class VoiceAuthenticationTests(VoiceHost host) : IClassFixture<VoiceHost>
{
    [Fact]
    public async Task Unsigned_call_is_401_problem()
    {
        var session = host.Conversation.NewSession();
        using var response = await host.Factory.CreateClient().PostAsync($"/sessions/{session}/voice", Wav(Recordings.Sine(1)));
        var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("edge", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(host.Conversation.ReceivedFor(session));
    }

    [Fact]
    public async Task Forged_identity_is_401_problem()
    {
        var session = host.Conversation.NewSession();
        var genuine = host.Factory.SignFor(HttpMethod.Post, $"/sessions/{session}/voice", Guid.NewGuid());
        // The genuine signature pasted onto another tenant's payload, plus a client-sent tenant header.
        var parts = genuine.Split('.');
        parts[2] = Guid.NewGuid().ToString("N");
        var client = host.Factory.CreateClient();
        client.DefaultRequestHeaders.Add(InternalIdentitySigner.HeaderName, string.Join('.', parts));
        client.DefaultRequestHeaders.Add("X-Tenant-Id", Guid.NewGuid().ToString());

        using var response = await client.PostAsync($"/sessions/{session}/voice", Wav(Recordings.Sine(1)));
        await Problems.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Empty(host.Conversation.ReceivedFor(session));
    }

    [Fact]
    public async Task Identity_signed_with_another_key_is_401_problem()
    {
        var session = host.Conversation.NewSession();
        var stranger = new InternalIdentitySigner(Options.Create(new InternalIdentityOptions { SigningKey = new string('x', 40) }), TimeProvider.System, new ServiceName("voice"));
        var client = host.Factory.CreateClient();
        client.DefaultRequestHeaders.Add(InternalIdentitySigner.HeaderName, stranger.Sign(IdentityKind.Tenant, Guid.NewGuid(), "r1", new InternalCall("voice", "POST", $"/sessions/{session}/voice")));

        using var response = await client.PostAsync($"/sessions/{session}/voice", Wav(Recordings.Sine(1)));
        await Problems.AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Empty(host.Conversation.ReceivedFor(session));
    }

    [Fact]
    public async Task Voice_calls_conversation_with_its_own_service_identity_acting_for_the_tenant()
    {
        var session = host.Conversation.NewSession();
        var tenant = Guid.NewGuid();
        using var response = await host.PostWavAsync(session, Recordings.Sine(1), tenant: tenant);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var identity = Assert.Single(host.Conversation.ReceivedFor(session)).Identity!;
        // Only the edge may sign a tenant identity: voice signs as itself, naming the tenant it acts for.
        Assert.Equal((tenant, IdentityKind.Service, "voice"), (identity.TenantId, identity.Kind, identity.Issuer));
    }

    private static ByteArrayContent Wav(byte[] audio)
    {
        var content = new ByteArrayContent(audio);
        content.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        return content;
    }
}
