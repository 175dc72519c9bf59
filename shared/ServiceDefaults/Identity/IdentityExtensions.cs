using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Hosting;

namespace StitchFin.ServiceDefaults.Identity;

public static class InternalPolicies
{
    public const string Tenant = "internal-tenant";
    public const string Admin = "internal-admin";
    public const string Service = "internal-service";

    /// <summary>A tenant's own call from the edge, or a sibling service acting for the tenant it names.</summary>
    public const string TenantOrService = "internal-tenant-or-service";
}

public static class IdentityExtensions
{
    /// <summary>
    /// The signer alone, with the keys of calls to <paramref name="audiences"/> required at start: the edge signs for
    /// every service, and each service signs its own calls to siblings (see <see cref="AddInternalIdentityPropagation"/>).
    /// </summary>
    public static IHostApplicationBuilder AddInternalIdentitySigning(this IHostApplicationBuilder builder, params string[] audiences)
    {
        builder.Services.AddOptions<InternalIdentityOptions>()
            .Bind(builder.Configuration.GetSection(InternalIdentityOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InternalIdentityOptions>, InternalIdentityKeysValidation>();
        builder.Services.AddOptions<RequiredIdentityKeys>().Configure<ServiceName>((required, self) =>
            required.Pairs.AddRange(audiences.Select(audience => new IdentityKeyPair(self.Value, audience))));
        builder.Services.TryAddSingleton<InternalIdentitySigner>();
        builder.Services.TryAddScoped<CurrentTenant>();
        return builder;
    }

    /// <summary>
    /// For internal services: every endpoint requires a tenant identity signed by the edge unless it says
    /// otherwise (health endpoints are anonymous; admin and service endpoints name their policy). Besides the edge,
    /// the service accepts service identities from the <paramref name="siblings"/> that call it, each with its own key.
    /// </summary>
    public static IHostApplicationBuilder AddInternalIdentity(this IHostApplicationBuilder builder, params string[] siblings)
    {
        builder.AddInternalIdentitySigning();
        builder.Services.AddOptions<RequiredIdentityKeys>().Configure<ServiceName>((required, self) =>
            required.Pairs.AddRange(siblings.Prepend(InternalIdentitySigner.EdgeIssuer).Select(issuer => new IdentityKeyPair(issuer, self.Value))));
        builder.Services.AddAuthentication(InternalIdentityAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, InternalIdentityAuthenticationHandler>(
                InternalIdentityAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(InternalPolicies.Tenant, Require(IdentityKind.Tenant))
            .AddPolicy(InternalPolicies.Admin, Require(IdentityKind.Admin))
            .AddPolicy(InternalPolicies.Service, Require(IdentityKind.Service))
            .AddPolicy(InternalPolicies.TenantOrService, Require(IdentityKind.Tenant, IdentityKind.Service))
            .SetFallbackPolicy(Require(IdentityKind.Tenant));
        return builder;
    }

    /// <summary>
    /// Outgoing calls to the sibling <paramref name="audience"/> carry this service's own identity, acting for the
    /// current request's tenant, signed with its key for that sibling for each call (required at start).
    /// </summary>
    public static IHttpClientBuilder AddInternalIdentityPropagation(this IHttpClientBuilder builder, string audience)
    {
        builder.Services.AddOptions<RequiredIdentityKeys>().Configure<ServiceName>((required, self) => required.Pairs.Add(new IdentityKeyPair(self.Value, audience)));
        return builder.AddHttpMessageHandler(services => new InternalIdentityPropagationHandler(
            services.GetRequiredService<IHttpContextAccessor>(), services.GetRequiredService<InternalIdentitySigner>(), audience));
    }

    private static AuthorizationPolicy Require(params IdentityKind[] kinds) => new AuthorizationPolicyBuilder(InternalIdentityAuthenticationHandler.SchemeName)
        .RequireAuthenticatedUser()
        .RequireClaim(InternalIdentityAuthenticationHandler.KindClaim, kinds.Select(kind => kind.ToString()))
        .Build();
}
