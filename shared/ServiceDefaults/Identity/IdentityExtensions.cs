using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace StitchFin.ServiceDefaults.Identity;

public static class InternalPolicies
{
    public const string Tenant = "internal-tenant";
    public const string Admin = "internal-admin";
    public const string Service = "internal-service";
}

public static class IdentityExtensions
{
    /// <summary>The signer alone: the edge signs, and every service signs its own calls to siblings.</summary>
    public static IHostApplicationBuilder AddInternalIdentitySigning(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InternalIdentityOptions>()
            .Bind(builder.Configuration.GetSection(InternalIdentityOptions.SectionName))
            .ValidateSecret("Identity:SigningKey", o => o.SigningKey)
            .ValidateOnStart();
        builder.Services.AddSingleton<InternalIdentitySigner>();
        builder.Services.AddScoped<CurrentTenant>();
        return builder;
    }

    /// <summary>
    /// For internal services: every endpoint requires a tenant identity signed by the edge unless it says
    /// otherwise (health endpoints are anonymous; admin and service endpoints name their policy).
    /// </summary>
    public static IHostApplicationBuilder AddInternalIdentity(this IHostApplicationBuilder builder)
    {
        builder.AddInternalIdentitySigning();
        builder.Services.AddAuthentication(InternalIdentityAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, InternalIdentityAuthenticationHandler>(
                InternalIdentityAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(InternalPolicies.Tenant, Require(IdentityKind.Tenant))
            .AddPolicy(InternalPolicies.Admin, Require(IdentityKind.Admin))
            .AddPolicy(InternalPolicies.Service, Require(IdentityKind.Service))
            .SetFallbackPolicy(Require(IdentityKind.Tenant));
        return builder;
    }

    /// <summary>Outgoing calls to the sibling <paramref name="audience"/> carry a copy of this request's identity signed for each call.</summary>
    public static IHttpClientBuilder AddInternalIdentityPropagation(this IHttpClientBuilder builder, string audience) =>
        builder.AddHttpMessageHandler(services => new InternalIdentityPropagationHandler(
            services.GetRequiredService<IHttpContextAccessor>(), services.GetRequiredService<InternalIdentitySigner>(), audience));

    private static AuthorizationPolicy Require(IdentityKind kind) => new AuthorizationPolicyBuilder(InternalIdentityAuthenticationHandler.SchemeName)
        .RequireAuthenticatedUser()
        .RequireClaim(InternalIdentityAuthenticationHandler.KindClaim, kind.ToString())
        .Build();
}
