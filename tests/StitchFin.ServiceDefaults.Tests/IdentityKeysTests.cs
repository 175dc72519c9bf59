using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.ServiceDefaults.Tests;

/// <summary>Keys per caller and callee: a service holding only its own keys can sign only as itself, only to its callees.</summary>
public sealed class IdentityKeysTests
{
    private const string Root = "a-root-key-for-these-tests-0123456789abcdef";
    private static readonly InternalCall AgentsCall = new("conversation", "GET", "/agents");

    [Fact]
    public void A_service_holding_only_its_own_keys_cannot_sign_for_a_service_it_has_no_key_for()
    {
        var metering = Signer("metering", ("gateway", "metering"));

        var error = Assert.Throws<InvalidOperationException>(() => metering.Sign(IdentityKind.Tenant, Guid.NewGuid(), "r1", new InternalCall("tenancy", "GET", "/keys")));

        Assert.Contains("Identity:Keys:metering:tenancy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sibling_may_sign_only_a_service_identity_and_only_the_edge_a_tenant_or_admin_one()
    {
        var conversation = Signer("conversation", ("gateway", "conversation"), ("voice", "conversation"));
        var voice = Signer("voice", ("voice", "conversation"));
        var edge = Signer("gateway", ("gateway", "conversation"));
        var tenant = Guid.NewGuid();

        Assert.False(conversation.TryVerify(voice.Sign(IdentityKind.Tenant, tenant, "r1", AgentsCall), AgentsCall, out _, out var tenantFailure));
        Assert.Equal(IdentityFailure.NotFromEdge, tenantFailure);
        Assert.False(conversation.TryVerify(voice.Sign(IdentityKind.Admin, tenant, "r1", AgentsCall), AgentsCall, out _, out var adminFailure));
        Assert.Equal(IdentityFailure.NotFromEdge, adminFailure);

        Assert.True(conversation.TryVerify(voice.Sign(IdentityKind.Service, tenant, "r1", AgentsCall), AgentsCall, out var fromVoice, out _));
        Assert.Equal(("voice", tenant, IdentityKind.Service), (fromVoice!.Issuer, fromVoice.TenantId, fromVoice.Kind));
        Assert.True(conversation.TryVerify(edge.Sign(IdentityKind.Tenant, tenant, "r1", AgentsCall), AgentsCall, out var fromEdge, out _));
        Assert.Equal(("gateway", IdentityKind.Tenant), (fromEdge!.Issuer, fromEdge.Kind));
    }

    [Fact]
    public void An_identity_from_an_issuer_the_receiver_holds_no_key_from_is_refused()
    {
        var tenancy = Signer("tenancy", ("gateway", "tenancy"));
        // Voice holds a key for tenancy that tenancy was never given (as if voice claimed one of its own).
        var voice = Signer("voice", ("voice", "tenancy"));
        var call = new InternalCall("tenancy", "GET", "/keys");

        Assert.False(tenancy.TryVerify(voice.Sign(IdentityKind.Service, Guid.NewGuid(), "r1", call), call, out _, out var failure));
        Assert.Equal(IdentityFailure.BadSignature, failure);
    }

    [Fact]
    public void An_issuer_named_in_the_payload_cannot_borrow_another_issuers_key()
    {
        var conversation = Signer("conversation", ("gateway", "conversation"), ("voice", "conversation"));
        var voice = Signer("voice", ("voice", "conversation"));
        var signed = voice.Sign(IdentityKind.Tenant, Guid.NewGuid(), "r1", AgentsCall);

        // Renaming the issuer to the edge changes which key verifies it, and voice does not hold the edge's.
        var renamed = signed.Replace(".voice.", ".gateway.", StringComparison.Ordinal);

        Assert.False(conversation.TryVerify(renamed, AgentsCall, out _, out var failure));
        Assert.Equal(IdentityFailure.BadSignature, failure);
    }

    [Fact]
    public void Keys_derived_from_the_root_are_the_keys_given_one_by_one()
    {
        var fromRoot = new InternalIdentitySigner(Options.Create(new InternalIdentityOptions { SigningKey = Root }), TimeProvider.System, new ServiceName("gateway"));
        var conversation = Signer("conversation", ("gateway", "conversation"));

        Assert.True(conversation.TryVerify(fromRoot.Sign(IdentityKind.Tenant, Guid.NewGuid(), "r1", AgentsCall), AgentsCall, out _, out _));
        Assert.Equal(64, InternalIdentityKeys.Derive(Root, "gateway", "conversation").Length);
        Assert.NotEqual(InternalIdentityKeys.Derive(Root, "gateway", "conversation"), InternalIdentityKeys.Derive(Root, "voice", "conversation"));
    }

    [Fact]
    public void Outside_development_the_root_is_refused_whatever_its_strength()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Start(Environments.Production, new() { ["Identity:SigningKey"] = Root }, "conversation"));

        Assert.Contains("Identity:SigningKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Root, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_missing_a_key_it_needs_does_not_start_and_names_it()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Start(Environments.Production, new()
        {
            ["Identity:Keys:gateway:conversation"] = InternalIdentityKeys.Derive(Root, "gateway", "conversation"),
        }, "conversation", siblings: ["voice"]));

        Assert.Contains("Identity:Keys:voice:conversation must be set", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Identity:Keys:gateway:conversation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_with_every_key_it_needs_starts_outside_development()
    {
        var signer = Start(Environments.Production, new()
        {
            ["Identity:Keys:gateway:conversation"] = InternalIdentityKeys.Derive(Root, "gateway", "conversation"),
            ["Identity:Keys:voice:conversation"] = InternalIdentityKeys.Derive(Root, "voice", "conversation"),
        }, "conversation", siblings: ["voice"]);

        Assert.Equal("conversation", signer.Audience);
    }

    private static InternalIdentitySigner Signer(string self, params (string Issuer, string Audience)[] pairs)
    {
        var options = new InternalIdentityOptions();
        foreach (var (issuer, audience) in pairs)
        {
            if (!options.Keys.TryGetValue(issuer, out var audiences))
            {
                options.Keys[issuer] = audiences = [];
            }

            audiences[audience] = InternalIdentityKeys.Derive(Root, issuer, audience);
        }

        return new InternalIdentitySigner(Options.Create(options), TimeProvider.System, new ServiceName(self));
    }

    /// <summary>Registers identity as a service does and resolves its options, which runs the start validation.</summary>
    private static InternalIdentitySigner Start(string environment, Dictionary<string, string?> configuration, string self, string[]? siblings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton(new ServiceName(self));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.AddInternalIdentity(siblings ?? []);
        using var services = builder.Services.BuildServiceProvider();
        _ = services.GetRequiredService<IOptions<InternalIdentityOptions>>().Value;
        return services.GetRequiredService<InternalIdentitySigner>();
    }
}
